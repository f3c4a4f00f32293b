#include "core/oci/http.h"

#include <curl/curl.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <mutex>

namespace kiln::oci {

namespace {

constexpr std::size_t kMaxErrorBody = 1024 * 1024;

void initializeCurl() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::string lower(std::string text) {
  for (char& c : text) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return text;
}

// The state that the callbacks of one transfer share.
struct Transfer {
  const HttpRequest* request = nullptr;
  HttpResponse response;
  std::exception_ptr error;
  std::FILE* upload = nullptr;
  std::size_t bodyOffset = 0;
};

std::size_t onHeader(char* data, std::size_t size, std::size_t count,
                     void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  std::string line(data, size * count);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) {
    line.pop_back();
  }
  if (line.rfind("HTTP/", 0) == 0) {
    // A new status line: a redirect or a 100 Continue came before it.
    transfer->response.headers.clear();
    std::size_t space = line.find(' ');
    transfer->response.status =
        space == std::string::npos ? 0 : std::atol(line.c_str() + space + 1);
  } else if (auto colon = line.find(':'); colon != std::string::npos) {
    std::string value = line.substr(colon + 1);
    std::size_t start = value.find_first_not_of(" \t");
    value = start == std::string::npos ? "" : value.substr(start);
    transfer->response.headers[lower(line.substr(0, colon))] = value;
  }
  return size * count;
}

std::size_t onWrite(char* data, std::size_t size, std::size_t count,
                    void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  std::size_t bytes = size * count;
  long status = transfer->response.status;
  try {
    if (status >= 200 && status < 300 && transfer->request->onBody) {
      transfer->request->onBody(data, bytes);
    } else if (transfer->response.body.size() < kMaxErrorBody ||
               (status >= 200 && status < 300)) {
      transfer->response.body.append(data, bytes);
    }
  } catch (...) {
    transfer->error = std::current_exception();
    return 0;  // aborts the transfer
  }
  return bytes;
}

std::size_t onRead(char* buffer, std::size_t size, std::size_t count,
                   void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  std::size_t room = size * count;
  const HttpRequest& request = *transfer->request;
  try {
    if (transfer->upload != nullptr) {
      std::size_t read = std::fread(buffer, 1, room, transfer->upload);
      if (read == 0 && std::ferror(transfer->upload)) {
        throw std::runtime_error("cannot read " + request.bodyFile.string());
      }
      if (request.onSend && read > 0) {
        request.onSend(buffer, read);
      }
      return read;
    }
    std::size_t left = request.body.size() - transfer->bodyOffset;
    std::size_t take = std::min(left, room);
    std::memcpy(buffer, request.body.data() + transfer->bodyOffset, take);
    transfer->bodyOffset += take;
    return take;
  } catch (...) {
    transfer->error = std::current_exception();
    return CURL_READFUNC_ABORT;
  }
}

HttpTransportError transportError(CURLcode code, long osErrno,
                                  const char* detail) {
  using Kind = HttpTransportError::Kind;
  std::string text = detail[0] != '\0' ? detail : curl_easy_strerror(code);
  switch (code) {
    case CURLE_COULDNT_CONNECT:
      return HttpTransportError(Kind::connect, osErrno == ECONNREFUSED
                                                   ? "connection refused"
                                                   : "connection failed");
    case CURLE_COULDNT_RESOLVE_HOST:
      return HttpTransportError(Kind::resolve, "unknown host");
    case CURLE_OPERATION_TIMEDOUT:
      return HttpTransportError(Kind::timeout, "timed out (" + text + ")");
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
      return HttpTransportError(Kind::tls, "TLS failed (" + text + ")");
    default:
      return HttpTransportError(Kind::other, text);
  }
}

// Keeps loopback requests away from any proxy that http_proxy names, and
// keeps the user's no_proxy list.
std::string noProxyList() {
  std::string list = "localhost,127.0.0.1,::1";
  for (const char* name : {"no_proxy", "NO_PROXY"}) {
    if (const char* value = std::getenv(name); value && *value) {
      return list + "," + value;
    }
  }
  return list;
}

}  // namespace

std::string HttpResponse::header(const std::string& lowerCaseName) const {
  auto it = headers.find(lowerCaseName);
  return it == headers.end() ? std::string() : it->second;
}

HttpClient::HttpClient(HttpLimits limits) : limits_(limits) {
  initializeCurl();
  handle_ = curl_easy_init();
  if (handle_ == nullptr) {
    throw std::runtime_error("libcurl could not create a handle");
  }
}

HttpClient::~HttpClient() {
  curl_easy_cleanup(static_cast<CURL*>(handle_));
}

std::string HttpClient::escape(const std::string& value) {
  char* escaped = curl_easy_escape(static_cast<CURL*>(handle_), value.c_str(),
                                   static_cast<int>(value.size()));
  std::string result = escaped != nullptr ? escaped : "";
  curl_free(escaped);
  return result;
}

HttpResponse HttpClient::perform(const HttpRequest& request) {
  CURL* curl = static_cast<CURL*>(handle_);
  curl_easy_reset(curl);
  Transfer transfer;
  transfer.request = &request;
  char errorBuffer[CURL_ERROR_SIZE] = {0};

  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 5L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_NOPROXY, noProxyList().c_str());
  curl_easy_setopt(curl, CURLOPT_USERAGENT, "kiln");
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errorBuffer);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT,
                   static_cast<long>(limits_.connect.count()));
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, limits_.lowSpeedBytes);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME,
                   static_cast<long>(limits_.lowSpeedTime.count()));
  bool streamed = request.onBody || !request.bodyFile.empty();
  if (!streamed) {
    curl_easy_setopt(curl, CURLOPT_TIMEOUT,
                     static_cast<long>(limits_.smallRequest.count()));
  }
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, onHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &transfer);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, onWrite);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &transfer);

  struct curl_slist* headers = nullptr;
  for (const auto& header : request.headers) {
    headers = curl_slist_append(headers, header.c_str());
  }
  // No "Expect: 100-continue" round trip before uploads.
  headers = curl_slist_append(headers, "Expect:");
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);

  std::unique_ptr<std::FILE, int (*)(std::FILE*)> upload(nullptr, std::fclose);
  bool hasBody = !request.bodyFile.empty() || !request.body.empty();
  if (request.method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (request.method == "PUT" || (request.method == "POST" && hasBody)) {
    curl_off_t size = static_cast<curl_off_t>(request.body.size());
    if (!request.bodyFile.empty()) {
      upload.reset(std::fopen(request.bodyFile.c_str(), "rb"));
      if (!upload) {
        curl_slist_free_all(headers);
        throw std::system_error(errno, std::generic_category(),
                                "cannot read " + request.bodyFile.string());
      }
      transfer.upload = upload.get();
      size =
          static_cast<curl_off_t>(std::filesystem::file_size(request.bodyFile));
    }
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, size);
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, onRead);
    curl_easy_setopt(curl, CURLOPT_READDATA, &transfer);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  } else if (request.method == "POST") {
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, 0L);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, "");
  } else if (request.method != "GET") {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }

  CURLcode code = curl_easy_perform(curl);
  long osErrno = 0;
  curl_easy_getinfo(curl, CURLINFO_OS_ERRNO, &osErrno);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, nullptr);
  curl_slist_free_all(headers);
  if (transfer.error) {
    std::rethrow_exception(transfer.error);
  }
  if (code != CURLE_OK) {
    throw transportError(code, osErrno, errorBuffer);
  }
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &transfer.response.status);
  return std::move(transfer.response);
}

}  // namespace kiln::oci
