#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "cache/remote/http_transport.h"
#include "cache/remote/remote_cache.h"
#include "cache/remote/remote_url.h"
#include "cache/remote/signature.h"

namespace kiln {

/// Settings of an HttpRemoteCache. The defaults suit a cache on the local
/// network or a CI provider's network.
struct RemoteCacheOptions {
  /// "http[s]://host[:port][/instance]". Userinfo in it is used as basic
  /// credentials and never shown.
  std::string url;

  /// Never send PUT: downloads only.
  bool readOnly = false;

  /// Blobs larger than this many bytes are not uploaded (kSkipped).
  // NOTE: 512 MiB is a guess at where uploading costs more than rebuilding,
  // and no measurement backs it.
  std::uint64_t maxEntrySize = 512ull << 20;

  std::chrono::milliseconds connectTimeout{2000};
  /// Limit for one attempt of an action entry request or a HEAD.
  std::chrono::milliseconds requestTimeout{30000};
  /// Limit for one attempt of a blob GET or PUT. Any transfer that moves
  /// less than 1 KiB/s for 10 s is also aborted.
  std::chrono::milliseconds blobTimeout{600000};
  RetryPolicy retry;

  /// The bearer token, or nullopt to read KILN_REMOTE_CACHE_TOKEN.
  std::optional<std::string> bearerToken;
  /// The netrc file for basic credentials, read when there is no token and
  /// no userinfo in the URL. nullopt means $NETRC, else ~/.netrc.
  std::optional<std::filesystem::path> netrcPath;

  /// Signs every entry that putAction stores, when set.
  std::shared_ptr<const SigningKey> signingKey;
  /// When set, getAction returns kMiss for entries without a valid
  /// signature by this key.
  std::shared_ptr<const VerifyingKey> verifyingKey;

  /// Called once, with the reason, when the cache becomes unavailable.
  std::function<void(const std::string& reason)> onUnavailable;
};

/// A remote cache that speaks the HTTP protocol of bazel-remote: GET, HEAD
/// and PUT on /ac/KEY and /cas/SHA256 under an optional instance path.
/// Action entries are REAPI ActionResult messages (action_result.h), and
/// blobs are raw bytes. After the first failure that makes further requests
/// pointless, the cache turns unavailable and returns an error from every
/// call at once.
// NOTE: blobs travel uncompressed. bazel-remote's zstd Content-Encoding
// for /cas/ would need a per-server option, because nginx would store the
// compressed bytes as they are.
class HttpRemoteCache final : public RemoteCache {
 public:
  /// Reads the credentials (token, URL userinfo, netrc). Throws UsageError
  /// for a malformed URL.
  explicit HttpRemoteCache(RemoteCacheOptions options);

  RemoteResult getAction(const Digest& actionKey,
                         RemoteActionEntry* entry) override;
  RemoteResult putAction(const Digest& actionKey,
                         const RemoteActionEntry& entry) override;
  RemoteResult hasBlob(const Digest& digest) override;
  RemoteResult getBlobToFile(const Digest& digest,
                             const std::filesystem::path& destination) override;
  RemoteResult getBlobBytes(const Digest& digest, std::string* bytes) override;
  RemoteResult putBlobFile(const Digest& digest,
                           const std::filesystem::path& source) override;
  RemoteResult putBlobBytes(const Digest& digest,
                            std::string_view bytes) override;
  bool available() const override { return !unavailable_.load(); }
  std::string unavailableReason() const override;

  /// The parsed base URL. display() shows it without credentials.
  const RemoteUrl& url() const { return url_; }

  /// The source of the credentials, without the secrets themselves:
  /// "bearer token", "user NAME from the URL", "user NAME from FILE", or
  /// "none".
  const std::string& credentialSource() const { return credentialSource_; }

 private:
  std::optional<RemoteResult> rejectIfUnavailable() const;
  RemoteResult failure(std::string_view method, const std::string& resource,
                       const HttpOutcome& outcome);
  void markUnavailable(const std::string& reason);
  RemoteResult putBody(const std::string& resource, std::uint64_t size,
                       std::function<std::size_t(char*, std::size_t)> read,
                       std::function<bool(std::string*)> reset,
                       std::chrono::milliseconds timeout,
                       const std::function<std::string()>& abortReason);

  RemoteCacheOptions options_;
  RemoteUrl url_;
  std::string credentialSource_;
  std::unique_ptr<HttpTransport> transport_;
  std::atomic<bool> unavailable_{false};
  mutable std::mutex reasonMutex_;
  std::string unavailableReason_;
  // Blobs whose download did not match their digest: hasBlob reports them
  // missing, so the next upload replaces the server's corrupt copy.
  std::mutex corruptMutex_;
  std::set<Digest> corrupt_;
  void markCorrupt(const Digest& digest);
};

}  // namespace kiln
