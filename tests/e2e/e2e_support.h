#pragma once

// Helpers of the end-to-end tests: the shared prepared example, kiln runs
// on it, servers started from build outputs, and HTTP requests to them on
// loopback.

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "tests/common/test_support.h"

namespace kiln::e2e {

/// The five example repositories, as directory names in a workspace.
extern const std::vector<std::string> kRepositories;

/// The workspace that the e2e_prepare_and_build fixture prepared and built
/// once: WORK/ws, with the build's output in WORK/first-build.log.
std::filesystem::path sharedWorkspace();

/// The output of the fixture's full build.
std::string firstBuildOutput();

/// A pipeline file of this source tree, such as "staging.yaml".
std::filesystem::path pipelineFile(const std::string& name);

/// Runs `kiln -p PIPELINE --workspace WORKSPACE --output plain ARGS...` with
/// the test cache directory (KILN_CACHE_DIR=WORK/cache).
test::RunResult runKilnOn(const std::filesystem::path& workspace,
                          const std::vector<std::string>& args,
                          const std::string& pipeline = "staging.yaml");

/// Returns true if kiln's plain output reports the step as finished: run
/// now, restored from the cache, or already up to date.
bool stepFinished(const std::string& output, const std::string& step);

/// Makes `dest` a workspace of git clones of the shared workspace's
/// repositories: committed sources only, without build outputs.
void cloneWorkspace(const std::filesystem::path& dest);

/// Replaces the first occurrence of `from` in a file; fails the test when
/// the file does not contain it.
void replaceInFile(const std::filesystem::path& file, const std::string& from,
                   const std::string& to);

/// A TCP port on 127.0.0.1 that was free a moment ago.
int freePort();

/// A process started in its own process group, its output going to a file.
/// Stopped (SIGTERM to the group, SIGKILL after 5 s) on destruction.
class Server {
 public:
  Server(const std::vector<std::string>& argv, const std::filesystem::path& cwd,
         const std::map<std::string, std::string>& env,
         const std::filesystem::path& logFile);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  pid_t pid() const { return pid_; }
  std::string log() const;
  /// Returns true while the process has not exited.
  bool running();
  void stop();

 private:
  pid_t pid_ = -1;
  std::filesystem::path logFile_;
  bool exited_ = false;
};

/// One HTTP response: status, headers (names in lower case) and body.
struct HttpResponse {
  int status = 0;
  std::map<std::string, std::string> headers;
  std::string body;
  std::string error;  // curl's message when the request failed
};

/// GET http://127.0.0.1:PORT/PATH through curl, with a 3 s limit.
HttpResponse httpGet(int port, const std::string& path,
                     const std::map<std::string, std::string>& headers = {});

/// Polls GET PATH every 200 ms until it returns 200, the server exits or
/// `timeout` passes; returns the last response.
HttpResponse waitForOk(
    Server& server, int port, const std::string& path,
    std::chrono::milliseconds timeout = std::chrono::seconds(30));

/// Copies a file or directory tree, keeping symlinks as symlinks.
void copyTree(const std::filesystem::path& from,
              const std::filesystem::path& to);

}  // namespace kiln::e2e
