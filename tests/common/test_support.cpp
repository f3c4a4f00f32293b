#include "tests/common/test_support.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace kiln::test {

namespace fs = std::filesystem;

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string pattern =
      std::string(base != nullptr ? base : "/tmp") + "/kiln-test.XXXXXX";
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  if (::mkdtemp(buffer.data()) == nullptr) {
    throw std::runtime_error("mkdtemp failed for " + pattern);
  }
  path_ = buffer.data();
}

TempDir::~TempDir() {
  if (std::getenv("KILN_KEEP_TEST_DIRS") == nullptr) {
    std::error_code error;
    fs::remove_all(path_, error);
  }
}

void writeFile(const fs::path& path, const std::string& text) {
  if (path.has_parent_path()) {
    fs::create_directories(path.parent_path());
  }
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out) {
    throw std::runtime_error("cannot write " + path.string());
  }
}

std::string readText(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

fs::path kilnBinary() {
  return KILN_BINARY;
}

namespace {

std::vector<std::string> mergedEnvironment(
    const std::map<std::string, std::string>& extra) {
  std::map<std::string, std::string> env;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    std::string text = *entry;
    std::size_t equals = text.find('=');
    if (equals != std::string::npos) {
      env[text.substr(0, equals)] = text.substr(equals + 1);
    }
  }
  for (const auto& [name, value] : extra) {
    env[name] = value;
  }
  std::vector<std::string> result;
  for (const auto& [name, value] : env) {
    result.push_back(name + "=" + value);
  }
  return result;
}

pid_t spawn(const std::vector<std::string>& argv, const fs::path& cwd,
            const std::map<std::string, std::string>& env,
            const fs::path& outputFile) {
  std::vector<std::string> envStrings = mergedEnvironment(env);
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

  pid_t pid = ::fork();
  if (pid < 0) {
    throw std::runtime_error("fork failed");
  }
  if (pid == 0) {
    int fd = ::open(outputFile.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int null = ::open("/dev/null", O_RDONLY);
    if (fd < 0 || null < 0 || ::chdir(cwd.c_str()) != 0) {
      ::_exit(127);
    }
    ::dup2(null, 0);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    ::execve(argp[0], argp.data(), envp.data());
    ::execvpe(argp[0], argp.data(), envp.data());
    ::_exit(127);
  }
  return pid;
}

int decodeStatus(int status) {
  if (WIFEXITED(status)) {
    return WEXITSTATUS(status);
  }
  if (WIFSIGNALED(status)) {
    return 128 + WTERMSIG(status);
  }
  return -1;
}

}  // namespace

RunResult run(const std::vector<std::string>& argv, const fs::path& cwd,
              const std::map<std::string, std::string>& env) {
  char name[] = "/tmp/kiln-test-output.XXXXXX";
  int fd = ::mkstemp(name);
  ::close(fd);
  pid_t pid = spawn(argv, cwd, env, name);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  RunResult result;
  result.exitCode = decodeStatus(status);
  result.output = readText(name);
  ::unlink(name);
  return result;
}

RunResult runKiln(const std::vector<std::string>& args, const fs::path& cwd,
                  const std::map<std::string, std::string>& env) {
  std::vector<std::string> argv = {kilnBinary().string()};
  argv.insert(argv.end(), args.begin(), args.end());
  return run(argv, cwd, env);
}

Background startKiln(const std::vector<std::string>& args, const fs::path& cwd,
                     const fs::path& outputFile,
                     const std::map<std::string, std::string>& env) {
  std::vector<std::string> argv = {kilnBinary().string()};
  argv.insert(argv.end(), args.begin(), args.end());
  Background background;
  background.outputFile = outputFile;
  background.pid = spawn(argv, cwd, env, outputFile);
  return background;
}

int Background::wait(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) {
      return decodeStatus(status);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return -1;
}

std::string Background::output() const {
  return readText(outputFile);
}

bool processAlive(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) {
    return false;
  }
  std::string text((std::istreambuf_iterator<char>(stat)),
                   std::istreambuf_iterator<char>());
  std::size_t paren = text.rfind(')');
  if (paren == std::string::npos || paren + 2 >= text.size()) {
    return false;
  }
  char state = text[paren + 2];
  return state != 'Z' && state != 'X';
}

bool waitForFile(const fs::path& path, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    std::error_code error;
    if (fs::exists(path, error) && fs::file_size(path, error) > 0) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

void gitInitCommit(const fs::path& dir) {
  std::map<std::string, std::string> env = {
      {"GIT_AUTHOR_NAME", "kiln test"},
      {"GIT_AUTHOR_EMAIL", "test@kiln.invalid"},
      {"GIT_COMMITTER_NAME", "kiln test"},
      {"GIT_COMMITTER_EMAIL", "test@kiln.invalid"},
      {"GIT_AUTHOR_DATE", "2026-01-01T00:00:00Z"},
      {"GIT_COMMITTER_DATE", "2026-01-01T00:00:00Z"}};
  for (const auto& argv : std::vector<std::vector<std::string>>{
           {"git", "init", "-q", "-b", "main"},
           {"git", "add", "-A"},
           {"git", "commit", "-q", "-m", "initial", "--allow-empty"}}) {
    RunResult result = run(argv, dir, env);
    if (result.exitCode != 0) {
      throw std::runtime_error("git failed in " + dir.string() + ": " +
                               result.output);
    }
  }
}

}  // namespace kiln::test
