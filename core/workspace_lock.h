#pragma once

#include <filesystem>
#include <functional>
#include <string>

namespace kiln {

/// An exclusive lock on a workspace's state directory, so two kiln
/// processes never build in one workspace at once. The lock is an flock on
/// STATE_DIR/lock, released when this object is destroyed or the process
/// ends.
class WorkspaceLock {
 public:
  /// Takes the lock. If another process holds it, calls `onWait` with a
  /// message naming that process, then waits.
  WorkspaceLock(const std::filesystem::path& stateDir,
                const std::function<void(const std::string&)>& onWait);
  ~WorkspaceLock();
  WorkspaceLock(const WorkspaceLock&) = delete;
  WorkspaceLock& operator=(const WorkspaceLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace kiln
