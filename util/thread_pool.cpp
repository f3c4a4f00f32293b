#include "util/thread_pool.h"

#include <atomic>
#include <exception>
#include <memory>

namespace kiln {

ThreadPool::ThreadPool(std::size_t threads) {
  for (std::size_t i = 0; i < threads; ++i) {
    threads_.emplace_back([this] { work(); });
  }
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& thread : threads_) {
    thread.join();
  }
}

void ThreadPool::submit(std::function<void()> task) {
  {
    std::lock_guard lock(mutex_);
    tasks_.push_back(std::move(task));
  }
  wake_.notify_one();
}

void ThreadPool::work() {
  while (true) {
    std::function<void()> task;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !tasks_.empty(); });
      if (tasks_.empty()) {
        return;
      }
      task = std::move(tasks_.front());
      tasks_.pop_front();
    }
    task();
  }
}

ThreadPool& ThreadPool::shared() {
  static ThreadPool pool(std::max(1u, std::thread::hardware_concurrency()));
  return pool;
}

namespace {

// State of one parallelFor call, kept alive by helpers that start late.
struct ParallelState {
  std::atomic<std::size_t> next{0};
  std::size_t count = 0;
  const std::function<void(std::size_t)>* body = nullptr;
  std::mutex mutex;
  std::condition_variable done;
  std::size_t active = 0;  // helpers inside runLoop
  bool finished = false;   // the caller has stopped waiting
  std::exception_ptr error;

  void runLoop() {
    while (true) {
      std::size_t index = next.fetch_add(1);
      if (index >= count) {
        return;
      }
      try {
        (*body)(index);
      } catch (...) {
        std::lock_guard lock(mutex);
        if (!error) {
          error = std::current_exception();
        }
        next = count;
      }
    }
  }
};

}  // namespace

void parallelFor(std::size_t count,
                 const std::function<void(std::size_t)>& body,
                 ThreadPool& pool) {
  if (count == 0) {
    return;
  }
  if (count == 1) {
    body(0);
    return;
  }
  auto state = std::make_shared<ParallelState>();
  state->count = count;
  state->body = &body;
  std::size_t helpers = std::min(pool.size(), count - 1);
  for (std::size_t i = 0; i < helpers; ++i) {
    pool.submit([state] {
      {
        std::lock_guard lock(state->mutex);
        if (state->finished) {
          return;  // `body` may be gone
        }
        ++state->active;
      }
      state->runLoop();
      std::lock_guard lock(state->mutex);
      --state->active;
      state->done.notify_all();
    });
  }
  state->runLoop();
  std::unique_lock lock(state->mutex);
  state->done.wait(lock, [&] { return state->active == 0; });
  state->finished = true;
  if (state->error) {
    std::rethrow_exception(state->error);
  }
}

}  // namespace kiln
