#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace kiln {

/// A fixed set of threads for CPU-bound work (hashing, compression,
/// restoring files), shared by every step of a build.
class ThreadPool {
 public:
  explicit ThreadPool(std::size_t threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  /// Queues a task; it runs on one of the pool's threads.
  void submit(std::function<void()> task);

  std::size_t size() const { return threads_.size(); }

  /// The process-wide pool, one thread per core.
  static ThreadPool& shared();

 private:
  void work();

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> tasks_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

/// Calls `body(i)` for every i in [0, count), on the calling thread and on
/// idle pool threads, and returns when all calls are done. The calling
/// thread always takes part, so a call from inside a pool task cannot
/// deadlock. The first exception a call throws is rethrown here, after the
/// other calls have finished.
void parallelFor(std::size_t count,
                 const std::function<void(std::size_t)>& body,
                 ThreadPool& pool = ThreadPool::shared());

}  // namespace kiln
