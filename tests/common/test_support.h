#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace kiln::test {

/// A fresh directory under $TMPDIR (or /tmp), removed on destruction unless
/// KILN_KEEP_TEST_DIRS is set.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const {
    return path_ / name;
  }

 private:
  std::filesystem::path path_;
};

void writeFile(const std::filesystem::path& path, const std::string& text);
std::string readText(const std::filesystem::path& path);

/// The result of a finished command.
struct RunResult {
  int exitCode = -1;
  std::string output;  // stdout and stderr, interleaved
};

/// Runs a program with arguments in `cwd` and waits; `env` entries are added
/// to (or replace) the test's own environment.
RunResult run(const std::vector<std::string>& argv,
              const std::filesystem::path& cwd,
              const std::map<std::string, std::string>& env = {});

/// Runs the kiln binary under test.
RunResult runKiln(const std::vector<std::string>& args,
                  const std::filesystem::path& cwd,
                  const std::map<std::string, std::string>& env = {});

/// A process started in the background, its output going to a file.
struct Background {
  pid_t pid = -1;
  std::filesystem::path outputFile;

  /// Waits for the process to end and returns its exit status (128+signal
  /// if a signal killed it); -1 on timeout.
  int wait(std::chrono::milliseconds timeout = std::chrono::seconds(60));
  std::string output() const;
};

Background startKiln(const std::vector<std::string>& args,
                     const std::filesystem::path& cwd,
                     const std::filesystem::path& outputFile,
                     const std::map<std::string, std::string>& env = {});

/// Returns true if the process exists and is not a zombie.
bool processAlive(pid_t pid);

/// Waits until the file exists and is not empty; false on timeout.
bool waitForFile(const std::filesystem::path& path,
                 std::chrono::milliseconds timeout = std::chrono::seconds(30));

/// The kiln binary under test.
std::filesystem::path kilnBinary();

/// Initializes a git repository in `dir` and commits everything in it.
void gitInitCommit(const std::filesystem::path& dir);

}  // namespace kiln::test
