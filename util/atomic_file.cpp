#include "util/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <string>
#include <system_error>

namespace kiln {

namespace {

[[noreturn]] void throwErrno(const std::string& what) {
  throw std::system_error(errno, std::generic_category(), what);
}

void writeAll(int fd, std::string_view content,
              const std::filesystem::path& path) {
  const char* data = content.data();
  std::size_t left = content.size();
  while (left > 0) {
    ssize_t count = ::write(fd, data, left);
    if (count < 0) {
      if (errno == EINTR) {
        continue;
      }
      throwErrno("cannot write " + path.string());
    }
    data += count;
    left -= static_cast<std::size_t>(count);
  }
}

}  // namespace

std::filesystem::path temporaryPathFor(const std::filesystem::path& path) {
  static std::atomic<unsigned long> counter{0};
  std::string name = "." + path.filename().string() + ".tmp." +
                     std::to_string(::getpid()) + "." +
                     std::to_string(counter.fetch_add(1));
  return path.parent_path() / name;
}

void writeFileAtomic(const std::filesystem::path& path,
                     std::string_view content, unsigned mode) {
  if (path.has_parent_path()) {
    std::filesystem::create_directories(path.parent_path());
  }
  std::filesystem::path temporary = temporaryPathFor(path);
  int fd =
      ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) {
    throwErrno("cannot create " + temporary.string());
  }
  try {
    writeAll(fd, content, temporary);
    if (::fchmod(fd, mode) != 0 || ::fsync(fd) != 0) {
      throwErrno("cannot write " + temporary.string());
    }
  } catch (...) {
    ::close(fd);
    ::unlink(temporary.c_str());
    throw;
  }
  ::close(fd);
  if (::rename(temporary.c_str(), path.c_str()) != 0) {
    int error = errno;
    ::unlink(temporary.c_str());
    throw std::system_error(error, std::generic_category(),
                            "cannot rename into " + path.string());
  }
}

bool tryReadFile(const std::filesystem::path& path, std::string* content) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return false;
  }
  content->clear();
  struct stat info;
  if (::fstat(fd, &info) == 0 && info.st_size > 0) {
    // One allocation for the whole file: the stat cache is hundreds of KB.
    content->reserve(static_cast<std::size_t>(info.st_size));
  }
  char buffer[65536];
  while (true) {
    ssize_t count = ::read(fd, buffer, sizeof buffer);
    if (count < 0) {
      if (errno == EINTR) {
        continue;
      }
      ::close(fd);
      return false;
    }
    if (count == 0) {
      break;
    }
    content->append(buffer, static_cast<std::size_t>(count));
  }
  ::close(fd);
  return true;
}

std::string readFile(const std::filesystem::path& path) {
  std::string content;
  if (!tryReadFile(path, &content)) {
    throwErrno("cannot read " + path.string());
  }
  return content;
}

}  // namespace kiln
