#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <functional>
#include <stdexcept>
#include <system_error>

#include "core/oci/layer.h"
#include "core/oci/layer_stream.h"
#include "util/error.h"

namespace kiln::oci {

namespace fs = std::filesystem;

namespace {

// Receives each entry of a walk: the entry, the descriptor of its parent
// directory and its name there.
using Visitor =
    std::function<void(const LayerEntry&, int parentFd, const char* name)>;

[[noreturn]] void throwErrno(const std::string& what, const fs::path& path) {
  throw std::system_error(errno, std::generic_category(),
                          what + " " + path.string());
}

// A file descriptor closed on destruction.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

std::vector<std::string> sortedNames(int dirFd, const fs::path& path) {
  int copy = ::dup(dirFd);
  DIR* dir = copy < 0 ? nullptr : ::fdopendir(copy);
  if (dir == nullptr) {
    if (copy >= 0) {
      ::close(copy);
    }
    throwErrno("cannot list", path);
  }
  std::vector<std::string> names;
  errno = 0;
  while (dirent* item = ::readdir(dir)) {
    std::string_view name = item->d_name;
    if (name != "." && name != "..") {
      names.emplace_back(name);
    }
  }
  int error = errno;
  ::closedir(dir);
  if (error != 0) {
    errno = error;
    throwErrno("cannot list", path);
  }
  // Children sorted by their bytes, visited depth first, give the
  // segment-by-segment order that writeLayer sorts entries into.
  std::sort(names.begin(), names.end());
  return names;
}

std::string readLink(int dirFd, const char* name, const fs::path& path) {
  std::string target(256, '\0');
  while (true) {
    ssize_t length = ::readlinkat(dirFd, name, target.data(), target.size());
    if (length < 0) {
      throwErrno("cannot read the symlink", path);
    }
    if (static_cast<std::size_t>(length) < target.size()) {
      target.resize(static_cast<std::size_t>(length));
      return target;
    }
    target.resize(target.size() * 2);
  }
}

void walk(int dirFd, const fs::path& diskDir, const std::string& imageDir,
          const Visitor& visit) {
  for (const auto& name : sortedNames(dirFd, diskDir)) {
    fs::path diskPath = diskDir / name;
    if (!isValidUtf8(name)) {
      throw UsageError(
          "invalid file name " + diskPath.string() + ": it is not valid UTF-8",
          "rename the file so that its name is UTF-8");
    }
    struct stat status;
    if (::fstatat(dirFd, name.c_str(), &status, AT_SYMLINK_NOFOLLOW) != 0) {
      throwErrno("cannot stat", diskPath);
    }
    LayerEntry entry;
    entry.path = imageDir.empty() ? name : imageDir + "/" + name;
    entry.mode = status.st_mode & 0777;
    entry.source = diskPath;
    if (S_ISDIR(status.st_mode)) {
      entry.type = EntryType::directory;
      entry.source.clear();
      visit(entry, dirFd, name.c_str());
      Fd child(::openat(dirFd, name.c_str(),
                        O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (child.get() < 0) {
        throwErrno("cannot open", diskPath);
      }
      walk(child.get(), diskPath, entry.path, visit);
    } else if (S_ISREG(status.st_mode)) {
      // NOTE: hard links become separate files, so their content is stored
      // once per name in the layer.
      entry.type = EntryType::file;
      visit(entry, dirFd, name.c_str());
    } else if (S_ISLNK(status.st_mode)) {
      entry.type = EntryType::symlink;
      entry.mode = 0777;
      entry.linkTarget = readLink(dirFd, name.c_str(), diskPath);
      entry.source.clear();
      visit(entry, dirFd, name.c_str());
    } else {
      throw std::runtime_error(
          diskPath.string() +
          " is a socket, FIFO or device, which an image layer cannot hold");
    }
  }
}

void walkRoot(const fs::path& root, const std::string& imageDir,
              const Visitor& visit) {
  Fd rootFd(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (rootFd.get() < 0) {
    throwErrno("cannot open", root);
  }
  walk(rootFd.get(), root, imageDir, visit);
}

std::string imageDirFor(std::string_view prefix) {
  if (prefix.empty() || prefix == "/" || prefix == ".") {
    return {};
  }
  return normalizeImagePath(prefix);
}

}  // namespace

std::vector<LayerEntry> scanDirectory(const fs::path& root,
                                      std::string_view prefix) {
  std::vector<LayerEntry> entries;
  walkRoot(root, imageDirFor(prefix),
           [&](const LayerEntry& entry, int, const char*) {
             entries.push_back(entry);
           });
  return entries;
}

LayerResult writeDirectoryLayer(const fs::path& root, std::string_view prefix,
                                const LayerOptions& options,
                                const fs::path& output) {
  std::string imageDir = imageDirFor(prefix);
  try {
    LayerStream stream(options, output);
    // The prefix and its parents, as writeLayer adds them.
    for (std::size_t end = 0; end != std::string::npos && !imageDir.empty();) {
      end = imageDir.find('/', end + 1);
      LayerEntry parent;
      parent.path = imageDir.substr(0, end);
      parent.type = EntryType::directory;
      parent.mode = 0755;
      stream.write(parent);
    }
    walkRoot(root, imageDir,
             [&](const LayerEntry& entry, int parentFd, const char* name) {
               if (entry.type != EntryType::file) {
                 stream.write(entry);
                 return;
               }
               Fd file(::openat(parentFd, name, O_RDONLY | O_CLOEXEC));
               if (file.get() < 0) {
                 throwErrno("cannot read", entry.source);
               }
               stream.writeFile(entry, file.get());
             });
    return stream.finish();
  } catch (...) {
    std::error_code ignored;
    fs::remove(output, ignored);
    throw;
  }
}

}  // namespace kiln::oci
