#pragma once

#include <atomic>
#include <functional>
#include <thread>

namespace kiln {

/// Turns SIGINT, SIGTERM and SIGHUP into a flag and a callback. Create it
/// before any other thread: it blocks those signals in the calling thread,
/// which every later thread inherits, and waits for them in a thread of its
/// own. Child processes must unblock them (the process runner does).
class InterruptHandler {
 public:
  /// `onInterrupt` runs on the handler's thread at the first signal.
  explicit InterruptHandler(std::function<void(int signal)> onInterrupt);
  ~InterruptHandler();
  InterruptHandler(const InterruptHandler&) = delete;
  InterruptHandler& operator=(const InterruptHandler&) = delete;

  bool interrupted() const { return signal_.load() != 0; }
  int signal() const { return signal_.load(); }

 private:
  std::function<void(int)> onInterrupt_;
  std::atomic<int> signal_{0};
  std::thread thread_;
};

}  // namespace kiln
