#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <utility>

#include "cache/remote/action_result.h"
#include "util/sha256.h"

namespace kiln {

/// The outcome of one remote cache operation. Misses, skips and errors are
/// values, not exceptions, because kiln recovers from all of them by using
/// the local cache alone. The message never contains credentials.
class RemoteResult {
 public:
  enum class Kind {
    kOk,       // done: a hit, a blob that exists, or a stored upload
    kMiss,     // the server does not have it, or the entry is not trusted
    kSkipped,  // not attempted: read-only mode or over the size limit
    kError,    // failed, and message() describes the failure
  };

  static RemoteResult ok() { return RemoteResult(Kind::kOk, {}); }
  static RemoteResult miss(std::string reason = {}) {
    return RemoteResult(Kind::kMiss, std::move(reason));
  }
  static RemoteResult skipped(std::string reason) {
    return RemoteResult(Kind::kSkipped, std::move(reason));
  }
  static RemoteResult error(std::string message) {
    return RemoteResult(Kind::kError, std::move(message));
  }

  Kind kind() const { return kind_; }
  bool isOk() const { return kind_ == Kind::kOk; }
  bool isMiss() const { return kind_ == Kind::kMiss; }
  bool isSkipped() const { return kind_ == Kind::kSkipped; }
  bool isError() const { return kind_ == Kind::kError; }

  /// The error message, or the reason for a miss or skip (may be empty).
  const std::string& message() const { return message_; }

 private:
  RemoteResult(Kind kind, std::string message)
      : kind_(kind), message_(std::move(message)) {}

  Kind kind_;
  std::string message_;
};

/// A remote action cache and CAS. Implementations are safe to call from
/// several threads at once.
class RemoteCache {
 public:
  virtual ~RemoteCache() = default;

  /// Looks up the entry stored under an action key. Fills `entry` only on
  /// kOk.
  virtual RemoteResult getAction(const Digest& actionKey,
                                 RemoteActionEntry* entry) = 0;

  /// Stores an entry under an action key. Upload the blobs it references
  /// first, because servers such as bazel-remote report an entry whose
  /// blobs are missing as a miss.
  virtual RemoteResult putAction(const Digest& actionKey,
                                 const RemoteActionEntry& entry) = 0;

  /// Returns kOk if the CAS has the blob, kMiss if it does not.
  virtual RemoteResult hasBlob(const Digest& digest) = 0;

  /// Downloads a blob to `destination` after checking its SHA-256. An
  /// existing file is replaced atomically. On any result but kOk nothing is
  /// left there (an existing file stays as it was). The file is not synced
  /// to disk: callers that keep it decide that.
  virtual RemoteResult getBlobToFile(
      const Digest& digest, const std::filesystem::path& destination) = 0;

  /// Downloads a blob into `bytes` after checking its SHA-256. On any
  /// result but kOk `bytes` is left empty.
  virtual RemoteResult getBlobBytes(const Digest& digest,
                                    std::string* bytes) = 0;

  /// Uploads a file's raw bytes as the blob `digest`. The upload is aborted,
  /// and an error returned, if the bytes read do not hash to `digest`.
  virtual RemoteResult putBlobFile(const Digest& digest,
                                   const std::filesystem::path& source) = 0;

  /// Uploads bytes as the blob `digest`, or returns an error if they do not
  /// hash to it.
  virtual RemoteResult putBlobBytes(const Digest& digest,
                                    std::string_view bytes) = 0;

  /// False once a request has failed in a way that makes later ones
  /// pointless (the server is unreachable, returns 5xx, or rejects the
  /// credentials). From then on every call returns an error at once.
  virtual bool available() const = 0;

  /// The reason the cache became unavailable, or empty while available()
  /// is true.
  virtual std::string unavailableReason() const = 0;
};

}  // namespace kiln
