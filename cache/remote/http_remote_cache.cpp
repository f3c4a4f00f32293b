#include "cache/remote/http_remote_cache.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <system_error>

#include "cache/remote/netrc.h"
#include "util/atomic_file.h"
#include "util/error.h"
#include "util/strings.h"

namespace kiln {

namespace {

// An ActionResult written by kiln is under 300 bytes, so a response over
// 1 MiB is not one of kiln's entries.
constexpr std::size_t kMaxActionResultSize = 1 << 20;

bool isAuthStatus(long status) {
  return status == 401 || status == 403 || status == 407;
}

bool isStoredStatus(long status) {
  return status == 200 || status == 201 || status == 204;
}

bool writeAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t count = ::write(fd, data.data(), data.size());
    if (count < 0) {
      if (errno == EINTR) {
        continue;
      }
      return false;
    }
    data.remove_prefix(static_cast<std::size_t>(count));
  }
  return true;
}

// Closes a file descriptor when it goes out of scope.
class FileCloser {
 public:
  explicit FileCloser(int fd) : fd_(fd) {}
  ~FileCloser() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }
  FileCloser(const FileCloser&) = delete;
  FileCloser& operator=(const FileCloser&) = delete;

  // Closes now and returns false if close(2) failed.
  bool close() {
    int fd = fd_;
    fd_ = -1;
    return ::close(fd) == 0;
  }

 private:
  int fd_;
};

std::string digestMismatch(const Digest& expected, const Digest& actual) {
  return "SHA-256 mismatch: expected " + expected.hex() + ", got " +
         actual.hex();
}

}  // namespace

HttpRemoteCache::HttpRemoteCache(RemoteCacheOptions options)
    : options_(std::move(options)) {
  std::string error;
  std::optional<RemoteUrl> url = RemoteUrl::parse(options_.url, &error);
  if (!url) {
    throw UsageError(
        "invalid remote cache URL '" + redactUrl(options_.url) + "': " + error,
        "expected http[s]://host[:port][/instance]");
  }
  url_ = std::move(*url);

  HttpCredentials credentials;
  std::string token;
  if (options_.bearerToken) {
    token = *options_.bearerToken;
  } else if (const char* value = std::getenv("KILN_REMOTE_CACHE_TOKEN")) {
    token = value;
  }
  if (!token.empty()) {
    credentials.bearerToken = token;
    credentialSource_ = "bearer token";
  } else if (!url_.user.empty()) {
    credentials.user = url_.user;
    credentials.password = url_.password;
    credentialSource_ = "user " + url_.user + " from the URL";
  } else {
    std::filesystem::path netrc =
        options_.netrcPath ? *options_.netrcPath : defaultNetrcPath();
    std::string text;
    std::optional<NetrcCredentials> found;
    if (!netrc.empty() && tryReadFile(netrc, &text)) {
      found = findNetrcCredentials(text, url_.hostName());
    }
    if (found) {
      credentials.user = found->login;
      credentials.password = found->password;
      credentialSource_ = "user " + found->login + " from " + netrc.string();
    } else {
      credentialSource_ = "none";
    }
  }
  transport_ = std::make_unique<HttpTransport>(
      std::move(credentials), options_.connectTimeout, options_.retry);
}

std::string HttpRemoteCache::unavailableReason() const {
  std::lock_guard lock(reasonMutex_);
  return unavailableReason_;
}

void HttpRemoteCache::markUnavailable(const std::string& reason) {
  {
    std::lock_guard lock(reasonMutex_);
    if (unavailable_.load()) {
      return;
    }
    unavailableReason_ = reason;
    unavailable_.store(true);
  }
  if (options_.onUnavailable) {
    options_.onUnavailable(reason);
  }
}

std::optional<RemoteResult> HttpRemoteCache::rejectIfUnavailable() const {
  if (!unavailable_.load()) {
    return std::nullopt;
  }
  return RemoteResult::error("remote cache " + url_.display() +
                             " is unavailable: " + unavailableReason());
}

RemoteResult HttpRemoteCache::failure(std::string_view method,
                                      const std::string& resource,
                                      const HttpOutcome& outcome) {
  std::string request = std::string(method) + " " + resource;
  std::string attempts = std::to_string(outcome.attempts) +
                         (outcome.attempts == 1 ? " attempt" : " attempts");
  if (outcome.status == 0) {
    std::string reason =
        "cannot reach " + url_.display() + ": " + outcome.error;
    markUnavailable(reason);
    return RemoteResult::error(request + " failed after " + attempts + ": " +
                               outcome.error);
  }

  std::string status = "HTTP " + std::to_string(outcome.status);
  if (!outcome.statusText.empty()) {
    status += " (" + outcome.statusText + ")";
  }
  if (isAuthStatus(outcome.status)) {
    std::string reason = url_.display() + " rejected the credentials (" +
                         credentialSource_ + ") with " + status;
    markUnavailable(reason);
    return RemoteResult::error(
        request + " failed with " + status +
        "; check KILN_REMOTE_CACHE_TOKEN or the netrc entry for " +
        url_.hostName());
  }
  if (outcome.status >= 500 || outcome.status == 408 || outcome.status == 429) {
    markUnavailable(url_.display() + " returned " + status);
    return RemoteResult::error(request + " failed with " + status + " after " +
                               attempts);
  }
  return RemoteResult::error(request + " failed with " + status);
}

RemoteResult HttpRemoteCache::getAction(const Digest& actionKey,
                                        RemoteActionEntry* entry) {
  if (auto rejected = rejectIfUnavailable()) {
    return *rejected;
  }
  std::string body;
  bool tooLarge = false;
  HttpRequest request;
  request.method = HttpMethod::kGet;
  request.url = url_.resourceUrl("ac", actionKey);
  request.timeout = options_.requestTimeout;
  request.reset = [&](std::string*) {
    body.clear();
    return true;
  };
  request.writeBody = [&](std::string_view chunk) {
    if (body.size() + chunk.size() > kMaxActionResultSize) {
      tooLarge = true;
      return false;
    }
    body.append(chunk);
    return true;
  };

  HttpOutcome outcome = transport_->perform(request, &unavailable_);
  if (tooLarge) {
    return RemoteResult::error("GET " + request.url +
                               " returned more than 1 MiB, which is not a "
                               "kiln action entry");
  }
  if (outcome.status == 404) {
    return RemoteResult::miss();
  }
  if (outcome.status != 200) {
    return failure("GET", request.url, outcome);
  }

  RemoteActionEntry decoded;
  std::string error;
  if (!decodeActionResult(body, &decoded, &error)) {
    return RemoteResult::error("invalid action entry at " + request.url + ": " +
                               error);
  }
  if (options_.verifyingKey &&
      !verifyActionEntry(*options_.verifyingKey, actionKey, decoded)) {
    return RemoteResult::miss(
        decoded.signature.empty()
            ? "the entry is not signed"
            : "the entry's signature is not valid for key " +
                  options_.verifyingKey->fingerprint());
  }
  *entry = std::move(decoded);
  return RemoteResult::ok();
}

RemoteResult HttpRemoteCache::putAction(const Digest& actionKey,
                                        const RemoteActionEntry& entry) {
  if (options_.readOnly) {
    return RemoteResult::skipped("the remote cache is read-only");
  }
  if (auto rejected = rejectIfUnavailable()) {
    return *rejected;
  }
  RemoteActionEntry signedEntry = entry;
  if (options_.signingKey && signedEntry.signature.empty()) {
    signedEntry.signature =
        signActionEntry(*options_.signingKey, actionKey, signedEntry);
  }
  std::string body = encodeActionResult(signedEntry);
  std::size_t offset = 0;
  return putBody(
      url_.resourceUrl("ac", actionKey), body.size(),
      [&](char* buffer, std::size_t size) {
        std::size_t count = std::min(size, body.size() - offset);
        std::memcpy(buffer, body.data() + offset, count);
        offset += count;
        return count;
      },
      [&](std::string*) {
        offset = 0;
        return true;
      },
      options_.requestTimeout, [] { return std::string(); });
}

void HttpRemoteCache::markCorrupt(const Digest& digest) {
  std::lock_guard lock(corruptMutex_);
  corrupt_.insert(digest);
}

RemoteResult HttpRemoteCache::hasBlob(const Digest& digest) {
  if (auto rejected = rejectIfUnavailable()) {
    return *rejected;
  }
  {
    std::lock_guard lock(corruptMutex_);
    if (corrupt_.count(digest) > 0) {
      return RemoteResult::miss();
    }
  }
  HttpRequest request;
  request.method = HttpMethod::kHead;
  request.url = url_.resourceUrl("cas", digest);
  request.timeout = options_.requestTimeout;
  HttpOutcome outcome = transport_->perform(request, &unavailable_);
  if (outcome.status == 200) {
    return RemoteResult::ok();
  }
  if (outcome.status == 404) {
    return RemoteResult::miss();
  }
  return failure("HEAD", request.url, outcome);
}

RemoteResult HttpRemoteCache::getBlobBytes(const Digest& digest,
                                           std::string* bytes) {
  bytes->clear();
  if (auto rejected = rejectIfUnavailable()) {
    return *rejected;
  }
  std::string body;
  HttpRequest request;
  request.method = HttpMethod::kGet;
  request.url = url_.resourceUrl("cas", digest);
  request.timeout = options_.blobTimeout;
  request.reset = [&](std::string*) {
    body.clear();
    return true;
  };
  request.writeBody = [&](std::string_view chunk) {
    body.append(chunk);
    return true;
  };

  HttpOutcome outcome = transport_->perform(request, &unavailable_);
  if (outcome.status == 404) {
    return RemoteResult::miss();
  }
  if (outcome.status != 200) {
    return failure("GET", request.url, outcome);
  }
  Digest actual = sha256(body);
  if (actual != digest) {
    markCorrupt(digest);
    return RemoteResult::error("GET " + request.url + ": " +
                               digestMismatch(digest, actual) +
                               "; the server's copy is corrupt");
  }
  *bytes = std::move(body);
  return RemoteResult::ok();
}

RemoteResult HttpRemoteCache::getBlobToFile(
    const Digest& digest, const std::filesystem::path& destination) {
  if (auto rejected = rejectIfUnavailable()) {
    return *rejected;
  }
  if (destination.has_parent_path()) {
    std::error_code ignored;
    std::filesystem::create_directories(destination.parent_path(), ignored);
  }
  // A new destination is written in place and removed on failure, which
  // saves a file creation and a rename per blob when a remote hit fetches
  // thousands. An existing one is replaced through a temporary file.
  std::filesystem::path temporary = destination;
  int fd = ::open(destination.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
                  0644);
  if (fd < 0 && errno == EEXIST) {
    temporary = temporaryPathFor(destination);
    fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
                0644);
  }
  if (fd < 0) {
    return RemoteResult::error("cannot create " + temporary.string() + ": " +
                               std::strerror(errno));
  }
  FileCloser closer(fd);
  std::optional<Sha256> hasher;
  int writeError = 0;

  HttpRequest request;
  request.method = HttpMethod::kGet;
  request.url = url_.resourceUrl("cas", digest);
  request.timeout = options_.blobTimeout;
  request.reset = [&](std::string* error) {
    hasher.emplace();
    if (::ftruncate(fd, 0) != 0 || ::lseek(fd, 0, SEEK_SET) != 0) {
      *error =
          "cannot truncate " + temporary.string() + ": " + std::strerror(errno);
      return false;
    }
    return true;
  };
  request.writeBody = [&](std::string_view chunk) {
    hasher->update(chunk);
    if (!writeAll(fd, chunk)) {
      writeError = errno;
      return false;
    }
    return true;
  };

  HttpOutcome outcome = transport_->perform(request, &unavailable_);
  bool complete = outcome.status == 200 && !outcome.aborted;
  std::optional<Digest> actual;
  if (complete) {
    actual = hasher->finish();
  }
  bool stored = complete && *actual == digest && closer.close() &&
                (temporary == destination ||
                 ::rename(temporary.c_str(), destination.c_str()) == 0);
  if (stored) {
    return RemoteResult::ok();
  }
  int renameError = errno;
  ::unlink(temporary.c_str());

  if (writeError != 0) {
    return RemoteResult::error("cannot write " + temporary.string() + ": " +
                               std::strerror(writeError));
  }
  if (outcome.aborted) {
    return RemoteResult::error("GET " + request.url + ": " + outcome.error);
  }
  if (outcome.status == 404) {
    return RemoteResult::miss();
  }
  if (outcome.status != 200) {
    return failure("GET", request.url, outcome);
  }
  if (*actual != digest) {
    markCorrupt(digest);
    return RemoteResult::error("GET " + request.url + ": " +
                               digestMismatch(digest, *actual) +
                               "; the server's copy is corrupt, and nothing "
                               "was written to " +
                               destination.string());
  }
  return RemoteResult::error("cannot store " + destination.string() + ": " +
                             std::strerror(renameError));
}

RemoteResult HttpRemoteCache::putBody(
    const std::string& resource, std::uint64_t size,
    std::function<std::size_t(char*, std::size_t)> read,
    std::function<bool(std::string*)> reset, std::chrono::milliseconds timeout,
    const std::function<std::string()>& abortReason) {
  HttpRequest request;
  request.method = HttpMethod::kPut;
  request.url = resource;
  request.timeout = timeout;
  request.bodySize = size;
  request.readBody = std::move(read);
  request.reset = std::move(reset);

  HttpOutcome outcome = transport_->perform(request, &unavailable_);
  if (outcome.aborted) {
    std::string reason = abortReason();
    return RemoteResult::error("PUT " + resource + " aborted: " +
                               (reason.empty() ? outcome.error : reason));
  }
  if (isStoredStatus(outcome.status)) {
    return RemoteResult::ok();
  }
  return failure("PUT", resource, outcome);
}

RemoteResult HttpRemoteCache::putBlobBytes(const Digest& digest,
                                           std::string_view bytes) {
  if (options_.readOnly) {
    return RemoteResult::skipped("the remote cache is read-only");
  }
  if (bytes.size() > options_.maxEntrySize) {
    return RemoteResult::skipped(
        "blob " + digest.hex() + " is " + formatBytes(bytes.size()) +
        ", over the upload limit of " + formatBytes(options_.maxEntrySize));
  }
  if (auto rejected = rejectIfUnavailable()) {
    return *rejected;
  }
  Digest actual = sha256(bytes);
  if (actual != digest) {
    return RemoteResult::error("blob not uploaded: " +
                               digestMismatch(digest, actual));
  }
  std::size_t offset = 0;
  return putBody(
      url_.resourceUrl("cas", digest), bytes.size(),
      [&](char* buffer, std::size_t size) {
        std::size_t count = std::min(size, bytes.size() - offset);
        std::memcpy(buffer, bytes.data() + offset, count);
        offset += count;
        return count;
      },
      [&](std::string*) {
        offset = 0;
        return true;
      },
      options_.blobTimeout, [] { return std::string(); });
}

RemoteResult HttpRemoteCache::putBlobFile(const Digest& digest,
                                          const std::filesystem::path& source) {
  if (options_.readOnly) {
    return RemoteResult::skipped("the remote cache is read-only");
  }
  int fd = ::open(source.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return RemoteResult::error("cannot read " + source.string() + ": " +
                               std::strerror(errno));
  }
  FileCloser closer(fd);
  struct stat info {};
  if (::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    return RemoteResult::error(source.string() + " is not a regular file");
  }
  auto size = static_cast<std::uint64_t>(info.st_size);
  if (size > options_.maxEntrySize) {
    return RemoteResult::skipped(
        "blob " + digest.hex() + " is " + formatBytes(size) +
        ", over the upload limit of " + formatBytes(options_.maxEntrySize));
  }
  if (size == 0) {
    return putBlobBytes(digest, {});
  }
  if (auto rejected = rejectIfUnavailable()) {
    return *rejected;
  }

  // The bytes are hashed as they are sent. If they do not match the digest
  // (the file changed, or the caller passed the wrong digest), the last
  // chunk is withheld and the transfer aborted, so the server never
  // receives a whole body to store under the wrong name.
  std::optional<Sha256> hasher;
  std::uint64_t sent = 0;
  std::string abortReason;
  auto read = [&](char* buffer, std::size_t capacity) -> std::size_t {
    std::size_t requested = static_cast<std::size_t>(
        std::min<std::uint64_t>(capacity, size - sent));
    if (requested == 0) {
      return 0;
    }
    ssize_t count;
    do {
      count = ::read(fd, buffer, requested);
    } while (count < 0 && errno == EINTR);
    if (count < 0) {
      abortReason =
          "cannot read " + source.string() + ": " + std::strerror(errno);
      return kAbortTransfer;
    }
    if (count == 0 && sent < size) {
      abortReason = source.string() + " shrank while it was uploaded";
      return kAbortTransfer;
    }
    hasher->update(buffer, static_cast<std::size_t>(count));
    sent += static_cast<std::uint64_t>(count);
    if (sent == size) {
      Digest actual = hasher->finish();
      if (actual != digest) {
        abortReason = source.string() + " does not match its digest: " +
                      digestMismatch(digest, actual);
        return kAbortTransfer;
      }
    }
    return static_cast<std::size_t>(count);
  };
  auto reset = [&](std::string* error) {
    hasher.emplace();
    sent = 0;
    if (::lseek(fd, 0, SEEK_SET) != 0) {
      *error = "cannot rewind " + source.string();
      return false;
    }
    return true;
  };
  return putBody(url_.resourceUrl("cas", digest), size, read, reset,
                 options_.blobTimeout, [&] { return abortReason; });
}

}  // namespace kiln
