#pragma once

#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <set>
#include <string>

#include "core/build_context.h"
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
  /// Steps that run even when up to date or cached (--force).
  std::set<std::string> forced;
  /// Put what changed since the last build in each outcome's detail.
  bool explain = false;
};

/// Runs steps on this machine: checks whether the outputs are up to date,
/// restores them from the cache on a hit, and otherwise runs the step (a
/// command as a process with a clean environment and its output in a log
/// file, a write-file step as an atomic write) and stores the result.
class Executor : public StepExecutor {
 public:
  Executor(const BuildGraph& graph, ExecutorOptions options,
           BuildContext& context, ProcessGroups& groups,
           const std::atomic<bool>& interrupted);

  StepOutcome execute(std::size_t index,
                      const std::vector<const StepOutcome*>& deps) override;

  /// The log file of a step.
  std::filesystem::path logPath(const Step& step) const;

 private:
  StepOutcome runUncached(const Step& step);
  StepOutcome runCommand(const Step& step);
  StepOutcome writeFile(const Step& step);
  bool tryRestore(const Step& step, const std::string& key,
                  StepOutcome* outcome);
  void finishBuilt(const Step& step, const KeyInputs* inputs,
                   std::chrono::milliseconds duration, StepOutcome* outcome);

  const BuildGraph& graph_;
  ExecutorOptions options_;
  BuildContext& context_;
  ProcessGroups& groups_;
  const std::atomic<bool>& interrupted_;
};

}  // namespace kiln
