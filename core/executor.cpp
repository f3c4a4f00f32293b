#include "core/executor.h"

#include "core/environment.h"
#include "util/atomic_file.h"
#include "util/strings.h"

namespace kiln {

namespace fs = std::filesystem;

std::string logFileName(const std::string& stepId) {
  std::string name;
  for (char c : stepId) {
    name += (c == '/' ? '+' : c);
  }
  return name + ".log";
}

Executor::Executor(const BuildGraph& graph, ExecutorOptions options,
                   ProcessGroups& groups, const std::atomic<bool>& interrupted)
    : graph_(graph),
      options_(std::move(options)),
      groups_(groups),
      interrupted_(interrupted),
      parentEnv_(currentEnvironment()) {
  fs::create_directories(options_.logDir);
}

fs::path Executor::logPath(const Step& step) const {
  return options_.logDir / logFileName(step.id);
}

StepOutcome Executor::execute(std::size_t index,
                              const std::vector<const StepOutcome*>& deps) {
  (void)deps;
  const Step& step = graph_.step(index);
  if (!step.skipReason.empty()) {
    return StepOutcome::of(StepStatus::kSkipped, step.skipReason);
  }
  if (interrupted_) {
    return StepOutcome::of(StepStatus::kCancelled, "interrupted");
  }
  switch (step.kind) {
    case StepKind::kCommand:
      return runCommand(step);
    case StepKind::kWriteFile:
      return writeFile(step);
  }
  return StepOutcome::of(StepStatus::kFailed, "unknown step kind");
}

StepOutcome Executor::runCommand(const Step& step) {
  ProcessSpec spec;
  spec.argv = step.argv;
  spec.workingDir = step.absoluteWorkingDir();
  spec.env = stepEnvironment(step, parentEnv_);
  spec.logFile = logPath(step);
  spec.timeout = step.timeout;
  ProcessResult result = runProcess(spec, groups_, options_.killGrace);

  std::vector<std::string> secrets = secretValues(step, parentEnv_);
  if (!secrets.empty()) {
    std::string log;
    if (tryReadFile(spec.logFile, &log)) {
      std::string masked = maskSecrets(log, secrets);
      if (masked != log) {
        writeFileAtomic(spec.logFile, masked);
      }
    }
  }

  StepOutcome outcome;
  if (result.succeeded()) {
    outcome.status = StepStatus::kBuilt;
    return outcome;
  }
  if (interrupted_ && !result.timedOut) {
    outcome.status = StepStatus::kCancelled;
    outcome.detail = result.describe();
    return outcome;
  }
  outcome.status = StepStatus::kFailed;
  outcome.detail = result.describe() + " (log: " + spec.logFile.string() + ")";
  std::string tail = maskSecrets(
      tailLines(spec.logFile, options_.failureLogLines), secrets);
  if (!tail.empty()) {
    outcome.detail += "\n" + tail;
    if (outcome.detail.back() == '\n') {
      outcome.detail.pop_back();
    }
  }
  return outcome;
}

StepOutcome Executor::writeFile(const Step& step) {
  if (step.outputs.size() != 1) {
    return StepOutcome::of(StepStatus::kFailed,
                          "a write-file step needs exactly one output path");
  }
  fs::path target = step.repoRoot / step.outputs.front();
  try {
    std::string current;
    if (!tryReadFile(target, &current) || current != step.content) {
      writeFileAtomic(target, step.content, step.fileMode);
    }
  } catch (const std::exception& error) {
    return StepOutcome::of(StepStatus::kFailed, error.what());
  }
  return StepOutcome::of(StepStatus::kBuilt, {});
}

}  // namespace kiln
