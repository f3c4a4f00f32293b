#include "core/process.h"

#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

// Boost.Process 1.74 enables its vfork launcher only for old
// _POSIX_C_SOURCE levels; glibc has vfork at every level.
#define BOOST_POSIX_HAS_VFORK 1
#include <boost/process/args.hpp>
#include <boost/process/child.hpp>
#include <boost/process/env.hpp>
#include <boost/process/exe.hpp>
#include <boost/process/extend.hpp>
#include <boost/process/io.hpp>
#include <boost/process/posix.hpp>
#include <boost/process/start_dir.hpp>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <thread>

#include "util/strings.h"

namespace kiln {

namespace bp = boost::process;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::string ProcessResult::describe() const {
  if (!error.empty()) {
    return error;
  }
  if (timedOut) {
    return "timed out after " + formatDuration(duration);
  }
  if (signal != 0) {
    const char* name = sigabbrev_np(signal);
    return std::string("killed by ") +
           (name != nullptr ? std::string("SIG") + name
                            : "signal " + std::to_string(signal));
  }
  return "exit status " + std::to_string(exitCode);
}

void ProcessGroups::add(pid_t group) {
  std::lock_guard lock(mutex_);
  groups_.insert(group);
}

void ProcessGroups::remove(pid_t group) {
  std::lock_guard lock(mutex_);
  groups_.erase(group);
}

bool ProcessGroups::empty() {
  std::lock_guard lock(mutex_);
  return groups_.empty();
}

void ProcessGroups::terminateAll(std::chrono::milliseconds grace) {
  {
    std::lock_guard lock(mutex_);
    for (pid_t group : groups_) {
      ::killpg(group, SIGTERM);
    }
  }
  auto deadline = Clock::now() + grace;
  while (Clock::now() < deadline) {
    bool anyLeft = false;
    {
      std::lock_guard lock(mutex_);
      for (pid_t group : groups_) {
        if (::killpg(group, 0) == 0) {
          anyLeft = true;
        }
      }
    }
    if (!anyLeft) {
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::lock_guard lock(mutex_);
  for (pid_t group : groups_) {
    ::killpg(group, SIGKILL);
  }
}

fs::path findProgram(const std::string& name, const std::string& path,
                     const fs::path& cwd) {
  if (name.find('/') != std::string::npos) {
    fs::path candidate =
        fs::path(name).is_absolute() ? fs::path(name) : cwd / name;
    return ::access(candidate.c_str(), X_OK) == 0 ? candidate : fs::path();
  }
  for (const auto& dir : split(path, ':')) {
    fs::path candidate = (dir.empty() ? cwd : fs::path(dir)) / name;
    std::error_code error;
    if (::access(candidate.c_str(), X_OK) == 0 &&
        !fs::is_directory(candidate, error)) {
      return candidate;
    }
  }
  return {};
}

void becomeChildSubreaper() {
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);
}

namespace {

// Waits for `pid` to exit; returns false if `timeout` passed first.
bool waitForExit(pid_t pid, std::optional<Clock::time_point> deadline,
                 int* status) {
  if (!deadline) {
    while (::waitpid(pid, status, 0) < 0) {
      if (errno != EINTR) {
        return true;
      }
    }
    return true;
  }
  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        *deadline - Clock::now());
    if (left.count() <= 0) {
      if (pidfd >= 0) {
        ::close(pidfd);
      }
      return false;
    }
    if (pidfd >= 0) {
      pollfd entry{pidfd, POLLIN, 0};
      ::poll(&entry, 1,
             static_cast<int>(std::min<long long>(left.count(), 1'000'000)));
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    pid_t done = ::waitpid(pid, status, WNOHANG);
    if (done == pid || (done < 0 && errno != EINTR)) {
      if (pidfd >= 0) {
        ::close(pidfd);
      }
      return true;
    }
  }
}

// Kills what is left of a group and reaps the members that were reparented
// to this process.
void finishGroup(pid_t group) {
  if (::killpg(group, SIGKILL) != 0) {
    return;
  }
  int status = 0;
  while (::waitpid(-group, &status, 0) > 0 || errno == EINTR) {
  }
}

}  // namespace

ProcessResult runProcess(const ProcessSpec& spec, ProcessGroups& groups,
                         std::chrono::milliseconds grace) {
  ProcessResult result;
  auto started = Clock::now();
  auto pathVar = spec.env.find("PATH");
  fs::path program = findProgram(
      spec.argv.at(0), pathVar == spec.env.end() ? "" : pathVar->second,
      spec.workingDir);
  if (program.empty()) {
    result.error = "program '" + spec.argv[0] + "' not found on PATH";
    return result;
  }

  bp::environment environment;
  for (const auto& [name, value] : spec.env) {
    environment[name] = value;
  }
  std::vector<std::string> args(spec.argv.begin() + 1, spec.argv.end());
  pid_t pid = -1;
  try {
    bp::child child(
        bp::exe = program.string(), bp::args = args, bp::env = environment,
        bp::start_dir = spec.workingDir.string(),
        (bp::std_out & bp::std_err) > spec.logFile.string(),
        bp::std_in < bp::null,
        // vfork shares the parent's memory until exec, so starting a step
        // costs the same however large kiln's heap is; the setup below
        // only makes system calls, which is safe in a vfork child.
        bp::posix::use_vfork, bp::extend::on_exec_setup = [](auto&) {
          // A new group, so signals reach the whole tree of the step; and
          // the signal mask kiln's threads block must not be inherited.
          ::setpgid(0, 0);
          sigset_t none;
          sigemptyset(&none);
          ::sigprocmask(SIG_SETMASK, &none, nullptr);
          ::signal(SIGPIPE, SIG_DFL);
        });
    pid = child.id();
    groups.add(pid);
    child.detach();
  } catch (const bp::process_error& error) {
    result.error = "cannot start '" + spec.argv[0] + "': " + error.what();
    return result;
  }

  int status = 0;
  std::optional<Clock::time_point> deadline;
  if (spec.timeout) {
    deadline = started + *spec.timeout;
  }
  if (!waitForExit(pid, deadline, &status)) {
    result.timedOut = true;
    ::killpg(pid, SIGTERM);
    if (!waitForExit(pid, Clock::now() + grace, &status)) {
      ::killpg(pid, SIGKILL);
      waitForExit(pid, std::nullopt, &status);
    }
  }
  finishGroup(pid);
  groups.remove(pid);

  result.duration = std::chrono::duration_cast<std::chrono::milliseconds>(
      Clock::now() - started);
  if (WIFEXITED(status)) {
    result.exitCode = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.signal = WTERMSIG(status);
  }
  return result;
}

std::string tailLines(const fs::path& file, std::size_t count) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    return {};
  }
  in.seekg(0, std::ios::end);
  std::streamoff size = in.tellg();
  std::streamoff start = std::max<std::streamoff>(0, size - 64 * 1024);
  in.seekg(start);
  std::string text((std::istreambuf_iterator<char>(in)),
                   std::istreambuf_iterator<char>());
  std::size_t position = text.size();
  if (position > 0 && text[position - 1] == '\n') {
    --position;
  }
  std::size_t lines = 0;
  while (position > 0) {
    if (text[position - 1] == '\n' && ++lines == count) {
      break;
    }
    --position;
  }
  return text.substr(position);
}

}  // namespace kiln
