#include "tests/common/nginx_cache.h"

#include <chrono>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "tests/common/loopback_server.h"

namespace kiln::test {

namespace {

constexpr int kStartAttempts = 3;

// Requests for this path prefix only mark a point in access.log.
constexpr const char* kMarkerPath = "/_kiln_log_marker/";

constexpr int kLogWaitSteps = 100;  // times 50 ms

}  // namespace

NginxCache::NginxCache(const std::string& basicAuth) {
  std::string lastOutput;
  for (int attempt = 0; attempt < kStartAttempts && !running_; ++attempt) {
    port_ = findFreePort();
    std::vector<std::string> argv = {"bash", KILN_NGINX_CACHE_SCRIPT, "start",
                                     dir_.path().string(),
                                     std::to_string(port_)};
    if (!basicAuth.empty()) {
      argv.push_back("--basic-auth");
      argv.push_back(basicAuth);
    }
    RunResult result = run(argv, dir_.path());
    running_ = result.exitCode == 0;
    lastOutput = result.output;
  }
  if (!running_) {
    throw std::runtime_error("nginx-cache.sh start failed: " + lastOutput);
  }
}

NginxCache::~NginxCache() {
  stop();
}

void NginxCache::stop() {
  if (!running_) {
    return;
  }
  run({"bash", KILN_NGINX_CACHE_SCRIPT, "stop", dir_.path().string()},
      dir_.path());
  running_ = false;
}

std::string NginxCache::url(const std::string& instance) const {
  std::string text = "http://127.0.0.1:" + std::to_string(port_);
  if (!instance.empty()) {
    text += "/" + instance;
  }
  return text;
}

// nginx writes a request's access.log line after it sends the response, so
// a client can see the response before the line exists. With one worker
// process, requests are logged in order, so once a marker request sent
// now is in the log, every earlier line is there too.
void NginxCache::waitForLog() const {
  if (!running_) {
    return;
  }
  std::string marker = kMarkerPath + std::to_string(++markers_);
  run({"curl", "-s", "-o", "/dev/null", "--max-time", "5", url() + marker},
      dir_.path());
  for (int step = 0; step < kLogWaitSteps; ++step) {
    if (readText(dir_.path() / "access.log").find(marker + " ") !=
        std::string::npos) {
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  throw std::runtime_error("nginx did not log " + marker + " within 5 s");
}

std::string NginxCache::accessLog() const {
  waitForLog();
  return readText(dir_.path() / "access.log");
}

int NginxCache::countRequests(const std::string& method) const {
  std::istringstream lines(accessLog());
  std::string line;
  int count = 0;
  while (std::getline(lines, line)) {
    if (line.find("\"" + method + " ") != std::string::npos &&
        line.find(kMarkerPath) == std::string::npos) {
      ++count;
    }
  }
  return count;
}

}  // namespace kiln::test
