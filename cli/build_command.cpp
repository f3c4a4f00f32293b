#include "cli/build_command.h"

#include <thread>

#include "cli/exit_codes.h"
#include "core/executor.h"
#include "core/targets.h"
#include "core/workspace_lock.h"
#include "util/strings.h"

namespace kiln {

void BuildControl::interrupt() {
  interrupted = true;
  if (Scheduler* current = scheduler.load()) {
    current->cancel();
  }
  groups.terminateAll(killGrace);
}

namespace {

int defaultJobs() {
  unsigned cores = std::thread::hardware_concurrency();
  return cores == 0 ? 1 : static_cast<int>(cores);
}

void printDryRun(const BuildGraph& graph, const std::vector<bool>& selected) {
  for (std::size_t index : graph.topologicalOrder()) {
    if (!selected[index]) {
      continue;
    }
    const Step& step = graph.step(index);
    std::string what = step.kind == StepKind::kWriteFile
                           ? "write " + join(step.outputs, " ")
                           : join(step.argv, " ");
    std::printf("%s: %s\n", step.id.c_str(), what.c_str());
  }
}

}  // namespace

int runBuild(Session& session, const BuildOptions& options,
             BuildControl& control, OutputMode mode) {
  std::vector<std::string> targets =
      selectTargets(session.targets, options.targets);
  const BuildGraph& graph = session.graph;
  std::vector<bool> selected = graph.closure(targets);
  if (options.dryRun) {
    printDryRun(graph, selected);
    return kExitSuccess;
  }

  Reporter reporter(graph, mode, stdout);
  for (const auto& warning : session.workspace.warnings) {
    reporter.warning(warning);
  }
  WorkspaceLock lock(session.workspace.stateDir,
                     [&](const std::string& text) { reporter.message(text); });

  control.killGrace = options.killGrace;
  ExecutorOptions executorOptions;
  executorOptions.logDir = session.workspace.logDir();
  executorOptions.killGrace = options.killGrace;
  Executor executor(graph, executorOptions, control.groups,
                    control.interrupted);

  std::vector<double> weights(graph.size(), 1.0);
  SchedulerOptions schedulerOptions;
  schedulerOptions.jobs = options.jobs > 0 ? options.jobs : defaultJobs();
  schedulerOptions.keepGoing = options.keepGoing;
  Scheduler scheduler(graph, selected, graph.criticalPath(weights), executor,
                      reporter, schedulerOptions);
  control.scheduler = &scheduler;
  control.building = true;
  if (control.interrupted) {
    scheduler.cancel();
  }
  scheduler.run();
  control.scheduler = nullptr;
  control.building = false;
  reporter.finish();

  reporter.printSummary(scheduler.outcomes(), targets);
  BuildStats stats = scheduler.stats();
  if (options.stats) {
    char line[256];
    std::snprintf(line, sizeof line,
                  "stats: wall %s, critical path %s, step time %s on %d "
                  "jobs, efficiency %.2f",
                  formatDuration(stats.wall).c_str(),
                  formatDuration(stats.criticalPath).c_str(),
                  formatDuration(stats.totalStepTime).c_str(), stats.jobs,
                  stats.efficiency());
    reporter.message(line);
  }

  if (control.interrupted) {
    reporter.message("kiln: interrupted");
    return kExitInterrupted;
  }
  bool failed = false;
  for (std::size_t i = 0; i < graph.size(); ++i) {
    StepStatus status = scheduler.outcomes()[i].status;
    if (selected[i] && (status == StepStatus::kFailed ||
                        status == StepStatus::kDepFailed ||
                        status == StepStatus::kNotRun)) {
      failed = true;
    }
  }
  if (failed) {
    reporter.message("kiln: build failed");
    return kExitStepFailed;
  }
  return kExitSuccess;
}

}  // namespace kiln
