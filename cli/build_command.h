#pragma once

#include <atomic>
#include <chrono>
#include <string>
#include <vector>

#include "cli/session.h"
#include "core/process.h"
#include "core/reporter.h"
#include "core/scheduler.h"

namespace kiln {

struct BuildOptions {
  std::vector<std::string> targets;  // selectors; empty means all
  int jobs = 0;                      // 0: the number of cores
  bool keepGoing = false;
  bool dryRun = false;
  bool json = false;  // with dryRun: print the plan as JSON
  bool stats = false;
  bool noCache = false;            // neither read nor write the cache
  bool explain = false;            // say why each step ran
  std::vector<std::string> force;  // targets to rerun
  std::chrono::milliseconds killGrace{5000};
};

/// State shared with the interrupt handler: it cancels the running build and
/// stops the steps' process groups.
struct BuildControl {
  std::atomic<bool> interrupted{false};
  std::atomic<Scheduler*> scheduler{nullptr};
  std::atomic<bool> building{false};
  std::chrono::milliseconds killGrace{5000};
  ProcessGroups groups;

  /// Called from the interrupt handler's thread.
  void interrupt();
};

/// Runs `kiln build`; returns the exit status.
int runBuild(Session& session, const BuildOptions& options,
             BuildControl& control, OutputMode mode);

/// Runs `kiln why TARGET...`: prints, for each step that would run, what
/// changed since the last build.
int runWhy(Session& session, const std::vector<std::string>& targets);

}  // namespace kiln
