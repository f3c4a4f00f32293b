#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "core/oci/auth.h"
#include "core/oci/http.h"
#include "core/oci/reference.h"

namespace kiln::oci {

struct RegistryOptions;

/// The access a request needs, for a bearer token's scope.
enum class Access { pull, push };

/// Sends requests to one or more registries with authentication, retries
/// and errors that name the registry: the shared part of RegistryClient.
class RegistrySession {
 public:
  explicit RegistrySession(const RegistryOptions& options);

  /// "https://host/v2/<repository>/" or "http://..." for plain-HTTP
  /// registries.
  std::string repositoryUrl(const Reference& reference) const;

  /// "https://host" or "http://host".
  std::string originUrl(const Reference& reference) const;

  /// Sends a request for `reference`'s repository, authenticating on a 401
  /// and retrying 429, 5xx and broken transfers up to
  /// RegistryOptions::maxAttempts times.
  /// `prepare` runs before each attempt, so a streamed body can restart.
  /// Throws RegistryError when the registry cannot be reached or rejects the
  /// credentials; other statuses are returned.
  HttpResponse send(const Reference& reference, Access access,
                    HttpRequest request,
                    const std::function<void()>& prepare = {});

  /// Throws the RegistryError that fits an unexpected response: not found
  /// for 404, unauthorized for 401 and 403, rejected for other statuses.
  [[noreturn]] void fail(const Reference& reference,
                         const HttpResponse& response,
                         const std::string& what) const;

  HttpClient& http() { return http_; }

 private:
  bool plainHttp(const std::string& host) const;
  std::string scope(const Reference& reference, Access access) const;
  void authenticate(const Reference& reference, Access access,
                    const HttpResponse& challengeResponse);
  std::string fetchToken(const Reference& reference,
                         const AuthChallenge& challenge,
                         const std::string& scope);
  [[noreturn]] void unauthorized(const Reference& reference, long status) const;
  [[noreturn]] void unreachable(const Reference& reference,
                                const HttpTransportError& error) const;

  std::vector<std::string> plainHttpRegistries_;
  std::filesystem::path dockerConfig_;
  int maxAttempts_;
  HttpClient http_;
  /// "registry|scope" -> Authorization header value.
  std::map<std::string, std::string> authorization_;
  std::map<std::string, DockerConfigEntry> configEntries_;
};

}  // namespace kiln::oci
