#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace kiln::oci {

/// Time limits of every HTTP request. A request fails when the connection
/// takes longer than `connect`, or when fewer than `lowSpeedBytes` bytes a
/// second move for `lowSpeedTime` (so a stalled blob transfer ends, while a
/// slow but steady one does not). Requests without a streamed body (manifests,
/// HEAD, upload starts, tokens) also end after `smallRequest` in total.
struct HttpLimits {
  std::chrono::seconds connect{10};
  long lowSpeedBytes = 1024;
  std::chrono::seconds lowSpeedTime{30};
  std::chrono::seconds smallRequest{60};
};

/// One HTTP request.
struct HttpRequest {
  std::string method = "GET";
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  std::string body;                  // sent when bodyFile is empty
  /// A file to send as the body (an upload), read in chunks.
  std::filesystem::path bodyFile;
  /// Receives each chunk of a file body as it is sent, for hashing.
  std::function<void(const char*, std::size_t)> onSend;
  /// Receives a 2xx response body in chunks; when unset, the body is kept
  /// in HttpResponse::body. Error bodies are always kept (at most 1 MiB).
  std::function<void(const char*, std::size_t)> onBody;
};

/// An HTTP response; redirects have been followed.
struct HttpResponse {
  long status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;

  /// The header's value, or "" when absent.
  std::string header(const std::string& lowerCaseName) const;
};

/// A request that got no HTTP response.
class HttpTransportError : public std::runtime_error {
 public:
  enum class Kind { connect, resolve, timeout, tls, other };
  HttpTransportError(Kind kind, const std::string& message)
      : std::runtime_error(message), kind_(kind) {}
  Kind kind() const { return kind_; }

 private:
  Kind kind_;
};

/// A libcurl easy handle that keeps connections open between requests. It
/// speaks only http and https and follows at most 5 redirects. Authorization
/// goes only to the first host, because CURLOPT_UNRESTRICTED_AUTH stays off
/// (libcurl 7.88). Loopback addresses never go through a proxy. One thread
/// at a time.
class HttpClient {
 public:
  explicit HttpClient(HttpLimits limits);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  /// Performs one request; throws HttpTransportError when no response came,
  /// and rethrows an exception from the onBody or onSend callback.
  HttpResponse perform(const HttpRequest& request);

  /// Percent-encodes a query parameter value.
  std::string escape(const std::string& value);

 private:
  HttpLimits limits_;
  void* handle_;
};

}  // namespace kiln::oci
