#include "tests/e2e/e2e_support.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <sstream>
#include <thread>

extern char** environ;

namespace kiln::e2e {

namespace fs = std::filesystem;

const std::vector<std::string> kRepositories = {
    "ngwenya-federation", "ngwenya-front", "ngwenya-dev", "ngwenya-support",
    "ngwenya-mobile"};

namespace {

fs::path workDir() {
  return KILN_E2E_WORK;
}

}  // namespace

fs::path sharedWorkspace() {
  return workDir() / "ws";
}

std::string firstBuildOutput() {
  return test::readText(workDir() / "first-build.log");
}

fs::path pipelineFile(const std::string& name) {
  return fs::path(KILN_SOURCE_DIR) / "pipelines" / name;
}

test::RunResult runKilnOn(const fs::path& workspace,
                          const std::vector<std::string>& args,
                          const std::string& pipeline) {
  std::vector<std::string> argv = {
      "-p",          pipelineFile(pipeline).string(),
      "--workspace", workspace.string(),
      "--output",    "plain"};
  argv.insert(argv.end(), args.begin(), args.end());
  std::string bases = KILN_TEST_BASES;
  return test::runKiln(argv, workspace,
                       {{"KILN_CACHE_DIR", (workDir() / "cache").string()},
                        {"ASTRO_TELEMETRY_DISABLED", "1"},
                        {"KILN_NODE_BASE", "oci:" + bases + ":node20"},
                        {"KILN_NGINX_BASE", "oci:" + bases + ":nginx"},
                        {"KILN_GLIBC_BASE", "oci:" + bases + ":glibc"}});
}

bool stepFinished(const std::string& output, const std::string& step) {
  for (const char* status : {"built", "cached", "up to date"}) {
    if (output.find("] " + std::string(status) + " " + step + " (") !=
        std::string::npos) {
      return true;
    }
  }
  return false;
}

void cloneWorkspace(const fs::path& dest) {
  fs::create_directories(dest);
  for (const auto& repo : kRepositories) {
    test::RunResult result =
        test::run({"git", "clone", "-q", (sharedWorkspace() / repo).string(),
                   (dest / repo).string()},
                  dest);
    INFO(result.output);
    REQUIRE(result.exitCode == 0);
  }
}

void replaceInFile(const fs::path& file, const std::string& from,
                   const std::string& to) {
  std::string text = test::readText(file);
  std::size_t found = text.find(from);
  INFO(file.string() << " should contain: " << from);
  REQUIRE(found != std::string::npos);
  text.replace(found, from.size(), to);
  test::writeFile(file, text);
}

int freePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) ==
          0);
  socklen_t length = sizeof address;
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) ==
          0);
  ::close(fd);
  return ntohs(address.sin_port);
}

Server::Server(const std::vector<std::string>& argv, const fs::path& cwd,
               const std::map<std::string, std::string>& env,
               const fs::path& logFile)
    : logFile_(logFile) {
  std::map<std::string, std::string> merged;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    std::string text = *entry;
    std::size_t equals = text.find('=');
    if (equals != std::string::npos) {
      merged[text.substr(0, equals)] = text.substr(equals + 1);
    }
  }
  for (const auto& [name, value] : env) {
    merged[name] = value;
  }
  std::vector<std::string> envStrings;
  for (const auto& [name, value] : merged) {
    envStrings.push_back(name + "=" + value);
  }
  std::vector<char*> envp;
  for (auto& entry : envStrings) {
    envp.push_back(entry.data());
  }
  envp.push_back(nullptr);
  std::vector<std::string> args = argv;
  std::vector<char*> argp;
  for (auto& arg : args) {
    argp.push_back(arg.data());
  }
  argp.push_back(nullptr);

  pid_ = ::fork();
  REQUIRE(pid_ >= 0);
  if (pid_ == 0) {
    ::setpgid(0, 0);
    int fd = ::open(logFile.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int null = ::open("/dev/null", O_RDONLY);
    if (fd < 0 || null < 0 || ::chdir(cwd.c_str()) != 0) {
      ::_exit(127);
    }
    ::dup2(null, 0);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    ::execvpe(argp[0], argp.data(), envp.data());
    ::_exit(127);
  }
  ::setpgid(pid_, pid_);
}

Server::~Server() {
  stop();
}

std::string Server::log() const {
  return test::readText(logFile_);
}

bool Server::running() {
  if (exited_) {
    return false;
  }
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) == pid_) {
    exited_ = true;
  }
  return !exited_;
}

void Server::stop() {
  if (pid_ <= 0 || !running()) {
    return;
  }
  ::kill(-pid_, SIGTERM);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (running() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (running()) {
    ::kill(-pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    exited_ = true;
  }
}

HttpResponse httpGet(int port, const std::string& path,
                     const std::map<std::string, std::string>& headers) {
  std::vector<std::string> argv = {"curl", "-s", "-S", "-i", "--max-time", "3"};
  for (const auto& [name, value] : headers) {
    argv.push_back("-H");
    argv.push_back(name + ": " + value);
  }
  argv.push_back("http://127.0.0.1:" + std::to_string(port) + path);
  test::RunResult result = test::run(argv, fs::temp_directory_path());
  HttpResponse response;
  if (result.exitCode != 0) {
    response.error = result.output;
    return response;
  }
  std::size_t end = result.output.find("\r\n\r\n");
  std::string head = result.output.substr(0, end);
  response.body = end == std::string::npos ? "" : result.output.substr(end + 4);
  std::istringstream lines(head);
  std::string line;
  std::getline(lines, line);
  std::istringstream statusLine(line);
  std::string version;
  statusLine >> version >> response.status;
  while (std::getline(lines, line)) {
    if (!line.empty() && line.back() == '\r') {
      line.pop_back();
    }
    std::size_t colon = line.find(':');
    if (colon == std::string::npos) {
      continue;
    }
    std::string name = line.substr(0, colon);
    for (char& c : name) {
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    std::size_t start = line.find_first_not_of(' ', colon + 1);
    response.headers[name] =
        start == std::string::npos ? "" : line.substr(start);
  }
  return response;
}

HttpResponse waitForOk(Server& server, int port, const std::string& path,
                       std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  HttpResponse response;
  while (std::chrono::steady_clock::now() < deadline && server.running()) {
    response = httpGet(port, path);
    if (response.status == 200) {
      return response;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return response;
}

void copyTree(const fs::path& from, const fs::path& to) {
  fs::create_directories(to.parent_path());
  fs::copy(from, to,
           fs::copy_options::recursive | fs::copy_options::copy_symlinks);
}

}  // namespace kiln::e2e
