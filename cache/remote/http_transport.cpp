#include "cache/remote/http_transport.h"

#include <curl/curl.h>

#include <mutex>
#include <stdexcept>
#include <thread>

namespace kiln {

namespace {

// A transfer slower than this many bytes a second for kStallSeconds is
// aborted as stalled, whatever the request's total timeout.
constexpr long kStallBytesPerSecond = 1024;
constexpr long kStallSeconds = 10;

// Idle libcurl handles kept for reuse. Handles returned beyond this are
// closed.
constexpr std::size_t kMaxIdleHandles = 8;

// The part of an error response's body kept for the message.
constexpr std::size_t kMaxStatusText = 200;

// Smaller PUT bodies go without "Expect: 100-continue", which would cost a
// round trip, or libcurl's 1 s wait on servers that never send 100
// Continue. Larger ones keep it, so that a server that rejects the request
// (401, 413) does so before the body is sent.
constexpr std::uint64_t kExpectContinueMinBody = 1 << 20;

std::once_flag curlInitFlag;

void replaceAll(std::string* text, std::string_view secret) {
  if (secret.empty()) {
    return;
  }
  std::size_t position = 0;
  while ((position = text->find(secret, position)) != std::string::npos) {
    text->replace(position, secret.size(), "***");
    position += 3;
  }
}

// Failures where a later attempt can succeed: the server was restarting,
// overloaded or a connection broke.
bool isTransientCurlCode(CURLcode code) {
  switch (code) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return true;
    default:
      return false;
  }
}

bool isTransientStatus(long status) {
  return status == 408 || status == 429 || (status >= 500 && status <= 599);
}

// Per-attempt state that libcurl's callbacks reach through their userdata.
struct TransferState {
  CURL* handle = nullptr;
  const HttpRequest* request = nullptr;
  bool aborted = false;
  std::string errorBody;
};

long responseStatus(CURL* handle) {
  long status = 0;
  curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &status);
  return status;
}

std::size_t onWrite(char* data, std::size_t size, std::size_t count,
                    void* userdata) {
  auto* state = static_cast<TransferState*>(userdata);
  std::size_t bytes = size * count;
  long status = responseStatus(state->handle);
  if (status != 200 || !state->request->writeBody) {
    // Keep the start of an error body for the message and drop the rest.
    if (status >= 400 && state->errorBody.size() < kMaxStatusText) {
      state->errorBody.append(
          data, std::min(bytes, kMaxStatusText - state->errorBody.size()));
    }
    return bytes;
  }
  if (!state->request->writeBody(std::string_view(data, bytes))) {
    state->aborted = true;
    return 0;  // any count but `bytes` makes libcurl abort
  }
  return bytes;
}

std::size_t onRead(char* buffer, std::size_t size, std::size_t count,
                   void* userdata) {
  auto* state = static_cast<TransferState*>(userdata);
  std::size_t read = state->request->readBody(buffer, size * count);
  if (read == kAbortTransfer) {
    state->aborted = true;
    return CURL_READFUNC_ABORT;
  }
  return read;
}

// The first line of a response body, trimmed, for an error message.
std::string firstLine(const std::string& body) {
  std::size_t end = body.find_first_of("\r\n");
  std::string line = body.substr(0, end);
  while (!line.empty() && (line.back() == ' ' || line.back() == '\t')) {
    line.pop_back();
  }
  // An HTML error page's first line is markup, not a reason.
  if (!line.empty() && line.front() == '<') {
    return {};
  }
  return line;
}

}  // namespace

std::string HttpCredentials::scrub(std::string text) const {
  replaceAll(&text, bearerToken);
  replaceAll(&text, password);
  return text;
}

HttpTransport::HttpTransport(HttpCredentials credentials,
                             std::chrono::milliseconds connectTimeout,
                             RetryPolicy retry)
    : credentials_(std::move(credentials)),
      connectTimeout_(connectTimeout),
      retry_(retry) {
  std::call_once(curlInitFlag, [] {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
      throw std::runtime_error("libcurl could not be initialized");
    }
  });
}

HttpTransport::~HttpTransport() {
  for (void* handle : idleHandles_) {
    curl_easy_cleanup(static_cast<CURL*>(handle));
  }
}

void* HttpTransport::acquireHandle() {
  {
    std::lock_guard lock(poolMutex_);
    if (!idleHandles_.empty()) {
      void* handle = idleHandles_.back();
      idleHandles_.pop_back();
      return handle;
    }
  }
  CURL* handle = curl_easy_init();
  if (handle == nullptr) {
    throw std::runtime_error("libcurl could not create a handle");
  }
  return handle;
}

void HttpTransport::releaseHandle(void* handle) {
  std::lock_guard lock(poolMutex_);
  if (idleHandles_.size() < kMaxIdleHandles) {
    idleHandles_.push_back(handle);
  } else {
    curl_easy_cleanup(static_cast<CURL*>(handle));
  }
}

HttpOutcome HttpTransport::attempt(void* rawHandle, const HttpRequest& request,
                                   bool* transient) {
  auto* handle = static_cast<CURL*>(rawHandle);
  // Reset clears the options but keeps the handle's open connections.
  curl_easy_reset(handle);

  TransferState state;
  state.handle = handle;
  state.request = &request;
  char errorBuffer[CURL_ERROR_SIZE] = {};

  curl_easy_setopt(handle, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(handle, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(handle, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(handle, CURLOPT_ERRORBUFFER, errorBuffer);
  curl_easy_setopt(handle, CURLOPT_USERAGENT, "kiln-remote-cache");
  curl_easy_setopt(handle, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(connectTimeout_.count()));
  curl_easy_setopt(handle, CURLOPT_TIMEOUT_MS,
                   static_cast<long>(request.timeout.count()));
  curl_easy_setopt(handle, CURLOPT_LOW_SPEED_LIMIT, kStallBytesPerSecond);
  curl_easy_setopt(handle, CURLOPT_LOW_SPEED_TIME, kStallSeconds);
  curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, onWrite);
  curl_easy_setopt(handle, CURLOPT_WRITEDATA, &state);

  struct curl_slist* headers = nullptr;
  std::string authorization;
  if (!credentials_.bearerToken.empty()) {
    authorization = "Authorization: Bearer " + credentials_.bearerToken;
    headers = curl_slist_append(headers, authorization.c_str());
  } else if (!credentials_.user.empty()) {
    curl_easy_setopt(handle, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
    curl_easy_setopt(handle, CURLOPT_USERNAME, credentials_.user.c_str());
    curl_easy_setopt(handle, CURLOPT_PASSWORD, credentials_.password.c_str());
  }

  if (request.method == HttpMethod::kHead) {
    curl_easy_setopt(handle, CURLOPT_NOBODY, 1L);
  } else if (request.method == HttpMethod::kPut) {
    headers =
        curl_slist_append(headers, "Content-Type: application/octet-stream");
    if (request.bodySize < kExpectContinueMinBody) {
      headers = curl_slist_append(headers, "Expect:");
    }
    curl_easy_setopt(handle, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(handle, CURLOPT_INFILESIZE_LARGE,
                     static_cast<curl_off_t>(request.bodySize));
    curl_easy_setopt(handle, CURLOPT_READFUNCTION, onRead);
    curl_easy_setopt(handle, CURLOPT_READDATA, &state);
  }
  curl_easy_setopt(handle, CURLOPT_HTTPHEADER, headers);

  CURLcode code = curl_easy_perform(handle);
  curl_slist_free_all(headers);
  // Drop the pointers to this frame before the handle goes back to the pool.
  curl_easy_setopt(handle, CURLOPT_ERRORBUFFER, nullptr);
  curl_easy_setopt(handle, CURLOPT_HTTPHEADER, nullptr);

  HttpOutcome outcome;
  outcome.aborted = state.aborted;
  if (code == CURLE_OK) {
    outcome.status = responseStatus(handle);
    *transient = isTransientStatus(outcome.status);
    if (outcome.status >= 400) {
      outcome.statusText = credentials_.scrub(firstLine(state.errorBody));
    }
  } else if (!state.aborted) {
    std::string message =
        errorBuffer[0] != '\0' ? errorBuffer : curl_easy_strerror(code);
    outcome.error = credentials_.scrub(message);
    *transient = isTransientCurlCode(code);
  }
  return outcome;
}

HttpOutcome HttpTransport::perform(const HttpRequest& request,
                                   const std::atomic<bool>* stop) {
  std::chrono::milliseconds backoff = retry_.initialBackoff;
  HttpOutcome outcome;
  for (int attemptNumber = 0;; ++attemptNumber) {
    std::string resetError;
    if (request.reset && !request.reset(&resetError)) {
      outcome = HttpOutcome{};
      outcome.aborted = true;
      outcome.error = resetError;
      outcome.attempts = attemptNumber;
      return outcome;
    }

    bool transient = false;
    void* handle = acquireHandle();
    outcome = attempt(handle, request, &transient);
    releaseHandle(handle);
    outcome.attempts = attemptNumber + 1;

    bool stopped = stop != nullptr && stop->load();
    if (!transient || outcome.aborted || stopped ||
        attemptNumber >= retry_.maxRetries) {
      return outcome;
    }
    std::this_thread::sleep_for(backoff);
    backoff *= 2;
  }
}

}  // namespace kiln
