#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace kiln::oci::test {

/// An HTTP request as the fake server received it.
struct FakeRequest {
  std::string method;
  std::string target;                          // path and query
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
};

/// The response that a FakeServer handler returns.
struct FakeResponse {
  int status = 200;
  std::map<std::string, std::string> headers;
  std::string body;
};

/// A minimal HTTP/1.1 server on 127.0.0.1 for protocol cases that Debian's
/// docker-registry cannot produce (bearer tokens, 503 responses, indexes). It
/// serves one request per connection and stops when destroyed, or after
/// 120 s at the latest.
class FakeServer {
 public:
  using Handler = std::function<FakeResponse(const FakeRequest&)>;
  explicit FakeServer(Handler handler);
  ~FakeServer();
  FakeServer(const FakeServer&) = delete;
  FakeServer& operator=(const FakeServer&) = delete;

  /// "127.0.0.1:PORT".
  std::string host() const { return "127.0.0.1:" + std::to_string(port_); }

  /// The requests served so far.
  std::vector<FakeRequest> requests();

 private:
  void serve();
  void handle(int connection);

  Handler handler_;
  int listener_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::mutex mutex_;
  std::vector<FakeRequest> requests_;
  std::thread thread_;
};

}  // namespace kiln::oci::test
