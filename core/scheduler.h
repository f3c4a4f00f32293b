#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <string>
#include <vector>

#include "core/graph.h"

namespace kiln {

/// How a step ended.
enum class StepStatus {
  kNotRun,     // never started: the build stopped first
  kBuilt,      // ran, and succeeded
  kRestored,   // outputs restored from the cache
  kUpToDate,   // outputs on disk already match the inputs; nothing done
  kFailed,     // ran, and failed
  kSkipped,    // cannot run on this machine (an absent toolchain)
  kDepFailed,  // a dependency failed or was skipped
  kCancelled,  // interrupted while running
};

std::string statusName(StepStatus status);
bool isSuccess(StepStatus status);

/// The result of one step, as the executor reports it.
struct StepOutcome {
  StepStatus status = StepStatus::kNotRun;
  /// Why it failed or was skipped, in a sentence; for a failure, followed by
  /// the end of the log.
  std::string detail;
  /// Digest of the step's outputs; dependents' action keys include it.
  std::string outputDigest;
  /// The step's action key, when one was computed.
  std::string actionKey;
  /// "local" or "remote" for a cache hit.
  std::string cacheSource;
  /// A warning to show even when the step succeeded, such as a cache entry
  /// that was rejected.
  std::string note;
  /// Total bytes of the outputs, when known.
  std::uint64_t outputBytes = 0;
  /// Filled in by the scheduler: time from the build's start, and the
  /// worker that ran the step (for traces).
  std::chrono::milliseconds started{0};
  std::chrono::milliseconds finished{0};
  int worker = 0;

  std::chrono::milliseconds duration() const { return finished - started; }

  static StepOutcome of(StepStatus status, std::string detail = {}) {
    StepOutcome outcome;
    outcome.status = status;
    outcome.detail = std::move(detail);
    return outcome;
  }
};

/// Runs one step to completion on the calling thread. Called from several
/// worker threads at once, never twice for one step.
class StepExecutor {
 public:
  virtual ~StepExecutor() = default;
  /// `deps` holds the outcomes of the step's dependencies, in the order of
  /// BuildGraph::deps(index); all of them succeeded.
  virtual StepOutcome execute(std::size_t index,
                              const std::vector<const StepOutcome*>& deps) = 0;
};

/// Watches a build; a reporter. Calls may come from several threads, but
/// never at the same time: the scheduler serializes them.
class BuildObserver {
 public:
  virtual ~BuildObserver() = default;
  virtual void buildStarted(std::size_t stepCount) { (void)stepCount; }
  virtual void stepStarted(std::size_t index) { (void)index; }
  virtual void stepFinished(std::size_t index, const StepOutcome& outcome) {
    (void)index;
    (void)outcome;
  }
};

struct SchedulerOptions {
  int jobs = 1;
  /// On a failure, go on building everything that does not depend on it.
  bool keepGoing = false;
};

/// Figures of a finished build, for the efficiency report.
struct BuildStats {
  std::chrono::milliseconds wall{0};
  /// The longest chain of dependent steps, by their actual durations.
  std::chrono::milliseconds criticalPath{0};
  /// The sum of all step durations.
  std::chrono::milliseconds totalStepTime{0};
  int jobs = 1;

  /// Wall time divided by the larger of the critical path and the total
  /// step time over the job count; 1.0 is a perfect schedule.
  double efficiency() const;
};

/// Runs the selected steps of a graph on `jobs` worker threads, in
/// dependency order. Among ready steps, the one with the highest priority
/// (the longest remaining path to the end of the graph) starts first.
class Scheduler {
 public:
  Scheduler(const BuildGraph& graph, std::vector<bool> selected,
            std::vector<double> priorities, StepExecutor& executor,
            BuildObserver& observer, SchedulerOptions options);

  /// Builds; returns when no step runs any more. Outcomes of steps that were
  /// not selected stay kNotRun.
  void run();

  /// Stops starting new steps; running ones finish (the caller stops their
  /// processes). Safe to call from any thread.
  void cancel();
  bool cancelled() const;

  const std::vector<StepOutcome>& outcomes() const { return outcomes_; }
  BuildStats stats() const;

  /// The order in which steps started, for tests.
  const std::vector<std::size_t>& startOrder() const { return startOrder_; }

 private:
  void worker(int id);
  void markDependentsFailed(std::size_t index);
  void push(std::size_t index);
  bool popReady(std::size_t* index);

  const BuildGraph& graph_;
  std::vector<bool> selected_;
  std::vector<double> priorities_;
  StepExecutor& executor_;
  BuildObserver& observer_;
  SchedulerOptions options_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<std::size_t> ready_;  // a heap by priority
  std::vector<std::size_t> pendingDeps_;
  std::vector<StepOutcome> outcomes_;
  std::vector<std::size_t> startOrder_;
  std::size_t running_ = 0;
  bool stopping_ = false;
  bool cancelled_ = false;
  std::chrono::steady_clock::time_point start_;
  std::chrono::milliseconds wall_{0};
  std::mutex observerMutex_;
};

}  // namespace kiln
