#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "core/oci/blob_sink.h"
#include "core/oci/descriptor.h"
#include "core/oci/http.h"
#include "core/oci/layout.h"
#include "core/oci/reference.h"

namespace kiln::oci {

class RegistrySession;

/// Connection and authentication settings of a RegistryClient.
struct RegistryOptions {
  /// Registries ("host:port", exactly as in the reference) that are reached
  /// over plain HTTP. Every other registry is reached over HTTPS only, with
  /// certificate checks and no fallback to HTTP.
  std::vector<std::string> plainHttpRegistries;
  /// The Docker config file with the credentials; unset means
  /// defaultDockerConfigPath().
  std::optional<std::filesystem::path> dockerConfig;
  HttpLimits limits;
  /// Maximum attempts per request when the registry responds with 429 or
  /// 5xx or the transfer breaks off. 3 means 2 retries, after 0.5 s and
  /// then 1 s. Refused connections and unknown hosts are not retried.
  int maxAttempts = 3;
};

/// A manifest that a tag or digest resolved to.
struct ResolvedManifest {
  Reference reference;
  Descriptor descriptor;  // of the linux/amd64 image manifest
  std::string manifest;   // its bytes, checked against the digest
  /// The digest of the index or manifest list the tag pointed at, when it
  /// pointed at one.
  std::optional<Digest> indexDigest;
};

/// An image that pull() stored in a BlobSink.
struct PulledImage {
  ResolvedManifest resolved;
  Descriptor configDescriptor;
  std::string config;
  std::vector<Descriptor> layers;
  int blobsDownloaded = 0;
  int blobsPresent = 0;  // skipped because the sink had them
};

/// The outcome of push().
struct PushResult {
  std::string reference;  // "registry/repository@sha256:<hex>"
  Digest digest;          // of the manifest
  int blobsUploaded = 0;
  /// Blobs the registry linked from another repository of the same
  /// registry (a cross-repository mount), so their bytes were not sent.
  int blobsMounted = 0;
  int blobsPresent = 0;  // skipped because the registry had them
  std::int64_t bytesUploaded = 0;
};

/// Formats the blob counts of a push for one line of output:
/// "2 blobs uploaded, 1 mounted, 0 already there".
std::string describeBlobs(const PushResult& result);

/// A registry or token server that sent no HTTP response: the connection
/// was refused or timed out, or the host name did not resolve. This is a
/// runtime failure, not a UsageError, so the command line exits with status
/// 1. what() contains the message, the URL without credentials or query,
/// and a second line "  fix: " with the hint.
class RegistryUnreachableError : public std::runtime_error {
 public:
  RegistryUnreachableError(const std::string& message, const std::string& hint)
      : std::runtime_error(message + "\n  fix: " + hint),
        message_(message),
        hint_(hint) {}

  const std::string& message() const { return message_; }
  const std::string& hint() const { return hint_; }

 private:
  std::string message_;
  std::string hint_;
};

/// A client of the OCI distribution API (v2) with libcurl. It resolves
/// tags, pulls images into a BlobSink and pushes images from a layout.
/// Requests start anonymous. On a 401 the client follows the server's
/// WWW-Authenticate challenge: Basic sends the credentials of the Docker
/// config file, and Bearer requests a token from the challenge's realm
/// (with those credentials when there are some). Credentials and tokens
/// never appear in an exception's text. Every blob and manifest is checked
/// against its digest. Errors the user must fix throw RegistryError (not
/// found, unauthorized, rejected, TLS failure); a registry that cannot be
/// reached throws RegistryUnreachableError; corrupt content throws
/// DigestMismatchError. One thread at a time.
class RegistryClient {
 public:
  explicit RegistryClient(RegistryOptions options = {});
  ~RegistryClient();
  RegistryClient(const RegistryClient&) = delete;
  RegistryClient& operator=(const RegistryClient&) = delete;

  /// Resolves a tag or digest to its linux/amd64 image manifest. An OCI
  /// index or Docker manifest list is resolved to its linux/amd64 entry.
  ResolvedManifest resolve(const Reference& reference);

  /// Downloads the manifest, config and layers of the linux/amd64 image into
  /// `sink`, skipping blobs the sink has. Each blob is checked against its
  /// digest before it is committed.
  PulledImage pull(const Reference& reference, BlobSink& sink);

  /// Returns true if the registry has the blob in the reference's
  /// repository (HEAD request).
  bool hasBlob(const Reference& repository, const Digest& digest);

  /// Pushes image `name` of `layout` as `target`, which must have a tag.
  /// It sends HEAD for each blob. A missing blob that an earlier push of this
  /// client sent or found in another repository of the same registry gets a
  /// cross-repository mount (POST ...?mount=&from=). Every other missing blob
  /// is uploaded (POST, then one PUT), hashed as it is sent. The manifest
  /// goes last. Returns "registry/repository@sha256:..." and blob counts.
  PushResult push(const Layout& layout, std::string_view name,
                  const Reference& target);

 private:
  std::unique_ptr<RegistrySession> session_;
  /// "registry|digest" -> a repository of that registry that has the blob,
  /// as earlier pushes of this client found. Mounts take blobs from there.
  std::map<std::string, std::string> blobRepositories_;
};

/// Pulls `reference` into `layout` and names the image `name` there.
PulledImage pullToLayout(RegistryClient& client, const Reference& reference,
                         Layout& layout, std::string_view name);

}  // namespace kiln::oci
