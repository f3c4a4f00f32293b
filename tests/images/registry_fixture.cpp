#include "tests/images/registry_fixture.h"

#include <sstream>
#include <stdexcept>

#include "tests/common/loopback_server.h"

namespace kiln::test {

namespace {

std::string script() {
  return std::string(KILN_SOURCE_DIR) + "/tests/support/registry.sh";
}

}  // namespace

Registry::Registry(const std::string& htpasswd) {
  for (int attempt = 0; attempt < 3 && !running_; ++attempt) {
    port_ = findFreePort();
    std::vector<std::string> argv = {
        "bash", script(), "start", dir_.path().string(), std::to_string(port_)};
    if (!htpasswd.empty()) {
      argv.push_back("--htpasswd");
      argv.push_back(htpasswd);
    }
    running_ = run(argv, dir_.path()).exitCode == 0;
  }
  if (!running_) {
    throw std::runtime_error("docker-registry did not start");
  }
}

Registry::~Registry() {
  stop();
}

void Registry::stop() {
  if (running_) {
    run({"bash", script(), "stop", dir_.path().string()}, dir_.path());
    running_ = false;
  }
}

std::string Registry::host() const {
  return "127.0.0.1:" + std::to_string(port_);
}

int Registry::blobUploads() const {
  std::istringstream log(readText(dir_ / "registry.log"));
  std::string line;
  int count = 0;
  while (std::getline(log, line)) {
    if (line.rfind("127.0.0.1 ", 0) == 0 &&
        line.find("\"POST /v2/") != std::string::npos &&
        line.find("/blobs/uploads/") != std::string::npos) {
      ++count;
    }
  }
  return count;
}

std::string baseImage(const std::string& name) {
  return "oci:" + std::string(KILN_TEST_BASES) + ":" + name;
}

}  // namespace kiln::test
