#include "core/workspace_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

#include "util/atomic_file.h"

namespace kiln {

WorkspaceLock::WorkspaceLock(
    const std::filesystem::path& stateDir,
    const std::function<void(const std::string&)>& onWait) {
  std::filesystem::create_directories(stateDir);
  std::filesystem::path path = stateDir / "lock";
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) {
    throw std::system_error(errno, std::generic_category(),
                            "cannot open " + path.string());
  }
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK) {
      throw std::system_error(errno, std::generic_category(),
                              "cannot lock " + path.string());
    }
    std::string holder;
    tryReadFile(path, &holder);
    while (!holder.empty() && (holder.back() == '\n')) {
      holder.pop_back();
    }
    onWait("waiting for another kiln" +
           (holder.empty() ? std::string() : " (pid " + holder + ")") +
           " to finish in this workspace (" + stateDir.string() + ")");
    while (::flock(fd_, LOCK_EX) != 0) {
      if (errno != EINTR) {
        throw std::system_error(errno, std::generic_category(),
                                "cannot lock " + path.string());
      }
    }
  }
  std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd_, 0) == 0) {
    ssize_t written = ::pwrite(fd_, pid.data(), pid.size(), 0);
    (void)written;
  }
}

WorkspaceLock::~WorkspaceLock() {
  if (fd_ >= 0) {
    ::close(fd_);
  }
}

}  // namespace kiln
