#pragma once

#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <string>

#include "core/graph.h"
#include "core/process.h"
#include "core/scheduler.h"

namespace kiln {

struct ExecutorOptions {
  /// Per-step logs go here, one file a step.
  std::filesystem::path logDir;
  /// Time between SIGTERM and SIGKILL when a step is stopped.
  std::chrono::milliseconds killGrace{5000};
  /// Lines of a failed step's log shown with the failure.
  std::size_t failureLogLines = 40;
};

/// Runs steps on this machine: a command as a process with a clean
/// environment and its output in a log file, a write-file step as an atomic
/// write.
class Executor : public StepExecutor {
 public:
  Executor(const BuildGraph& graph, ExecutorOptions options,
           ProcessGroups& groups, const std::atomic<bool>& interrupted);

  StepOutcome execute(std::size_t index,
                      const std::vector<const StepOutcome*>& deps) override;

  /// The log file of a step.
  std::filesystem::path logPath(const Step& step) const;

 private:
  StepOutcome runCommand(const Step& step);
  StepOutcome writeFile(const Step& step);

  const BuildGraph& graph_;
  ExecutorOptions options_;
  ProcessGroups& groups_;
  const std::atomic<bool>& interrupted_;
  std::map<std::string, std::string> parentEnv_;
};

/// A file name for a step's log: the id with '/' replaced.
std::string logFileName(const std::string& stepId);

}  // namespace kiln
