#include "core/interrupt.h"

#include <pthread.h>
#include <signal.h>

namespace kiln {

namespace {

// SIGUSR2 wakes the handler thread when the handler is destroyed.
sigset_t handledSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  sigaddset(&set, SIGUSR2);
  return set;
}

}  // namespace

InterruptHandler::InterruptHandler(std::function<void(int)> onInterrupt)
    : onInterrupt_(std::move(onInterrupt)) {
  sigset_t set = handledSignals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  thread_ = std::thread([this] {
    sigset_t waitSet = handledSignals();
    while (true) {
      int received = 0;
      if (sigwait(&waitSet, &received) != 0) {
        continue;
      }
      if (received == SIGUSR2) {
        return;
      }
      int expected = 0;
      if (signal_.compare_exchange_strong(expected, received)) {
        onInterrupt_(received);
      }
    }
  });
}

InterruptHandler::~InterruptHandler() {
  pthread_kill(thread_.native_handle(), SIGUSR2);
  thread_.join();
  sigset_t set = handledSignals();
  pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
}

}  // namespace kiln
