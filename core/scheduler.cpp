#include "core/scheduler.h"

#include <algorithm>
#include <thread>

namespace kiln {

using Clock = std::chrono::steady_clock;

std::string statusName(StepStatus status) {
  switch (status) {
    case StepStatus::kNotRun:
      return "not run";
    case StepStatus::kBuilt:
      return "built";
    case StepStatus::kRestored:
      return "cached";
    case StepStatus::kUpToDate:
      return "up to date";
    case StepStatus::kFailed:
      return "FAILED";
    case StepStatus::kSkipped:
      return "skipped";
    case StepStatus::kDepFailed:
      return "dep failed";
    case StepStatus::kCancelled:
      return "cancelled";
  }
  return "unknown";
}

bool isSuccess(StepStatus status) {
  return status == StepStatus::kBuilt || status == StepStatus::kRestored ||
         status == StepStatus::kUpToDate;
}

double BuildStats::efficiency() const {
  double bound = std::max<double>(
      static_cast<double>(criticalPath.count()),
      static_cast<double>(totalStepTime.count()) / std::max(1, jobs));
  if (bound <= 0) {
    return 1.0;
  }
  return static_cast<double>(wall.count()) / bound;
}

Scheduler::Scheduler(const BuildGraph& graph, std::vector<bool> selected,
                     std::vector<double> priorities, StepExecutor& executor,
                     BuildObserver& observer, SchedulerOptions options)
    : graph_(graph),
      selected_(std::move(selected)),
      priorities_(std::move(priorities)),
      executor_(executor),
      observer_(observer),
      options_(options),
      pendingDeps_(graph.size(), 0),
      outcomes_(graph.size()) {
  options_.jobs = std::max(1, options_.jobs);
}

void Scheduler::push(std::size_t index) {
  ready_.push_back(index);
  std::push_heap(ready_.begin(), ready_.end(),
                 [this](std::size_t a, std::size_t b) {
                   if (priorities_[a] != priorities_[b]) {
                     return priorities_[a] < priorities_[b];
                   }
                   return a > b;
                 });
}

bool Scheduler::popReady(std::size_t* index) {
  if (ready_.empty()) {
    return false;
  }
  std::pop_heap(ready_.begin(), ready_.end(),
                [this](std::size_t a, std::size_t b) {
                  if (priorities_[a] != priorities_[b]) {
                    return priorities_[a] < priorities_[b];
                  }
                  return a > b;
                });
  *index = ready_.back();
  ready_.pop_back();
  return true;
}

void Scheduler::markDependentsFailed(std::size_t index) {
  std::vector<std::size_t> pending(graph_.dependents(index).begin(),
                                   graph_.dependents(index).end());
  while (!pending.empty()) {
    std::size_t next = pending.back();
    pending.pop_back();
    if (!selected_[next] || outcomes_[next].status != StepStatus::kNotRun) {
      continue;
    }
    outcomes_[next].status = StepStatus::kDepFailed;
    outcomes_[next].detail = "needs " + graph_.step(index).id;
    for (std::size_t dependent : graph_.dependents(next)) {
      pending.push_back(dependent);
    }
  }
}

void Scheduler::run() {
  start_ = Clock::now();
  std::size_t total = 0;
  {
    std::lock_guard lock(mutex_);
    for (std::size_t i = 0; i < graph_.size(); ++i) {
      if (!selected_[i]) {
        continue;
      }
      ++total;
      for (std::size_t dep : graph_.deps(i)) {
        if (selected_[dep]) {
          ++pendingDeps_[i];
        }
      }
      if (pendingDeps_[i] == 0) {
        push(i);
      }
    }
  }
  observer_.buildStarted(total);

  std::vector<std::thread> workers;
  for (int i = 0; i < options_.jobs; ++i) {
    workers.emplace_back([this, i] { worker(i); });
  }
  for (auto& thread : workers) {
    thread.join();
  }
  wall_ = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() -
                                                                start_);
}

void Scheduler::worker(int id) {
  std::unique_lock lock(mutex_);
  while (true) {
    wake_.wait(
        lock, [this] { return stopping_ || !ready_.empty() || running_ == 0; });
    std::size_t index = 0;
    if (stopping_ || !popReady(&index)) {
      if (running_ == 0 || stopping_) {
        wake_.notify_all();
        return;
      }
      continue;
    }
    ++running_;
    startOrder_.push_back(index);
    std::vector<const StepOutcome*> deps;
    for (std::size_t dep : graph_.deps(index)) {
      deps.push_back(&outcomes_[dep]);
    }
    auto started = std::chrono::duration_cast<std::chrono::milliseconds>(
        Clock::now() - start_);
    lock.unlock();

    {
      std::lock_guard observerLock(observerMutex_);
      observer_.stepStarted(index);
    }
    StepOutcome outcome = executor_.execute(index, deps);
    outcome.started = started;
    outcome.finished = std::chrono::duration_cast<std::chrono::milliseconds>(
        Clock::now() - start_);
    outcome.worker = id;

    lock.lock();
    --running_;
    outcomes_[index] = outcome;
    if (isSuccess(outcome.status)) {
      for (std::size_t dependent : graph_.dependents(index)) {
        if (selected_[dependent] && --pendingDeps_[dependent] == 0 &&
            outcomes_[dependent].status == StepStatus::kNotRun) {
          push(dependent);
        }
      }
    } else {
      markDependentsFailed(index);
      if (outcome.status != StepStatus::kSkipped && !options_.keepGoing) {
        stopping_ = true;
      }
    }
    lock.unlock();
    {
      std::lock_guard observerLock(observerMutex_);
      observer_.stepFinished(index, outcomes_[index]);
    }
    lock.lock();
    wake_.notify_all();
  }
}

void Scheduler::cancel() {
  std::lock_guard lock(mutex_);
  stopping_ = true;
  cancelled_ = true;
  wake_.notify_all();
}

bool Scheduler::cancelled() const {
  std::lock_guard lock(mutex_);
  return cancelled_;
}

BuildStats Scheduler::stats() const {
  BuildStats stats;
  stats.wall = wall_;
  stats.jobs = options_.jobs;
  std::vector<double> durations(graph_.size(), 0);
  for (std::size_t i = 0; i < graph_.size(); ++i) {
    if (selected_[i]) {
      durations[i] = static_cast<double>(outcomes_[i].duration().count());
      stats.totalStepTime += outcomes_[i].duration();
    }
  }
  std::vector<double> path = graph_.criticalPath(durations);
  double longest = 0;
  for (double value : path) {
    longest = std::max(longest, value);
  }
  stats.criticalPath =
      std::chrono::milliseconds(static_cast<long long>(longest));
  return stats;
}

}  // namespace kiln
