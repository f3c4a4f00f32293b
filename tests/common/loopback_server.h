#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace kiln::test {

/// Returns a TCP port on 127.0.0.1 that was free a moment ago: the kernel's
/// pick for a socket bound to port 0, which is then closed.
int findFreePort();

/// A minimal HTTP/1.1 server on 127.0.0.1 for fault tests. It responds to
/// every request with one fixed status and body and closes the connection,
/// or, in hanging mode, reads the request and never responds. It records each
/// request's head (request line and headers). The server thread stops on
/// destruction, and at the latest after 60 s or 1,000 connections.
class LoopbackServer {
 public:
  /// Responds to every request with `status` and `body`.
  LoopbackServer(int status, std::string body);

  /// A server that accepts connections and never responds.
  static std::unique_ptr<LoopbackServer> hanging();

  ~LoopbackServer();
  LoopbackServer(const LoopbackServer&) = delete;
  LoopbackServer& operator=(const LoopbackServer&) = delete;

  int port() const { return port_; }
  std::string url() const;

  /// The heads of the requests received so far.
  std::vector<std::string> requests() const;

 private:
  LoopbackServer(int status, std::string body, bool hang);
  void serve();
  void handle(int client);

  int status_;
  std::string body_;
  bool hang_;
  int listener_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  mutable std::mutex mutex_;
  std::vector<std::string> requests_;
  std::vector<int> openClients_;
  std::thread thread_;
};

}  // namespace kiln::test
