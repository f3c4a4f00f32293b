#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace kiln {

/// A process to start: argv, working directory, the complete environment,
/// and the file that receives its stdout and stderr.
struct ProcessSpec {
  std::vector<std::string> argv;
  std::filesystem::path workingDir;
  std::map<std::string, std::string> env;
  std::filesystem::path logFile;
  std::optional<std::chrono::milliseconds> timeout;
};

/// How a process ended.
struct ProcessResult {
  int exitCode = -1;      // valid when signal == 0 and error is empty
  int signal = 0;         // the signal that killed it, else 0
  bool timedOut = false;  // killed because it ran past its timeout
  std::string error;      // it could not be started, and why
  std::chrono::milliseconds duration{0};

  bool succeeded() const {
    return error.empty() && signal == 0 && exitCode == 0 && !timedOut;
  }
  /// "exit status 2", "killed by SIGTERM", "timed out after 30.0s".
  std::string describe() const;
};

/// The process groups of running steps. Each step runs as the leader of its
/// own group, so stopping a step reaches its whole process tree (unless a
/// process moves itself to another group or session).
class ProcessGroups {
 public:
  /// Sends SIGTERM to every group, waits up to `grace` for them to empty,
  /// then sends SIGKILL to the groups that remain.
  void terminateAll(std::chrono::milliseconds grace);

  void add(pid_t group);
  void remove(pid_t group);
  bool empty();

 private:
  std::mutex mutex_;
  std::set<pid_t> groups_;
};

/// Starts a process in a new process group with exactly `spec.env`, waits
/// for it and returns how it ended. When the leader exits, whatever is left
/// of its group gets SIGKILL, so no process of a step outlives the step.
/// A timeout sends SIGTERM to the group, then SIGKILL after `grace`.
ProcessResult runProcess(const ProcessSpec& spec, ProcessGroups& groups,
                         std::chrono::milliseconds grace);

/// Finds a program the way execvp does, on the given PATH; returns an empty
/// path if it is not found. A name with a '/' is resolved against `cwd`.
std::filesystem::path findProgram(const std::string& name,
                                  const std::string& path,
                                  const std::filesystem::path& cwd);

/// Makes this process the reaper of orphaned descendants, so that
/// grandchildren left by a step can be waited for and never linger as
/// zombies of another process.
void becomeChildSubreaper();

/// Returns the last `count` lines of a file.
std::string tailLines(const std::filesystem::path& file, std::size_t count);

}  // namespace kiln
