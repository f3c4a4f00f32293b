#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace kiln {

/// Credentials sent with every request. A bearer token wins over a user
/// and password.
struct HttpCredentials {
  std::string bearerToken;  // "Authorization: Bearer TOKEN" when not empty
  std::string user;         // basic auth when not empty
  std::string password;

  /// Returns `text` with every occurrence of the token and the password
  /// replaced by "***", for text that came from elsewhere (libcurl's error
  /// buffer, a server's response body).
  std::string scrub(std::string text) const;
};

/// Retry settings for requests that fail in a transient way.
struct RetryPolicy {
  int maxRetries = 2;                             // attempts beyond the first
  std::chrono::milliseconds initialBackoff{200};  // doubled before each retry
};

enum class HttpMethod { kGet, kHead, kPut };

/// Returned by HttpRequest::readBody to abort the transfer.
inline constexpr std::size_t kAbortTransfer = static_cast<std::size_t>(-1);

/// One HTTP request. The callbacks run on the thread that calls perform().
struct HttpRequest {
  HttpMethod method = HttpMethod::kGet;
  std::string url;  // without userinfo

  /// Limit for one attempt, from connecting to the last byte, or zero for
  /// none.
  std::chrono::milliseconds timeout{0};

  /// Called before every attempt, so that a retry starts from a clean
  /// state (rewound body, truncated download). Returning false, with
  /// `error` set, aborts the request.
  std::function<bool(std::string* error)> reset;

  /// PUT only: the body size and a reader that fills `buffer` with up to
  /// `size` bytes, returns 0 at the end, or kAbortTransfer.
  std::uint64_t bodySize = 0;
  std::function<std::size_t(char* buffer, std::size_t size)> readBody;

  /// GET only: receives the body of a 200 response, and returning false
  /// aborts the transfer.
  std::function<bool(std::string_view chunk)> writeBody;
};

/// The result of a request after its last attempt.
struct HttpOutcome {
  long status = 0;         // the HTTP status, or 0 when no response came
  bool aborted = false;    // a callback aborted the transfer
  std::string error;       // why no response came (scrubbed), or empty
  std::string statusText;  // the first line of an error response's body
  int attempts = 0;
};

/// Performs HTTP requests with libcurl: timeouts, credentials and bounded
/// retries with exponential backoff for connection failures, timeouts, 408,
/// 429 and 5xx. Redirects are not followed, so credentials go only to the
/// configured host. Safe to call from several threads: each request takes
/// a libcurl handle from a pool, which keeps connections alive across
/// requests.
class HttpTransport {
 public:
  HttpTransport(HttpCredentials credentials,
                std::chrono::milliseconds connectTimeout, RetryPolicy retry);
  ~HttpTransport();
  HttpTransport(const HttpTransport&) = delete;
  HttpTransport& operator=(const HttpTransport&) = delete;

  /// Sends the request, retrying per the policy. Stops retrying early when
  /// `stop` becomes true (another request found the server unavailable).
  HttpOutcome perform(const HttpRequest& request,
                      const std::atomic<bool>* stop = nullptr);

  const HttpCredentials& credentials() const { return credentials_; }

 private:
  void* acquireHandle();
  void releaseHandle(void* handle);
  HttpOutcome attempt(void* handle, const HttpRequest& request,
                      bool* transient);

  HttpCredentials credentials_;
  std::chrono::milliseconds connectTimeout_;
  RetryPolicy retry_;
  std::mutex poolMutex_;
  std::vector<void*> idleHandles_;  // CURL easy handles
};

}  // namespace kiln
