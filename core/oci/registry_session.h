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
  /// Throws RegistryUnreachableError when the registry cannot be reached and
  /// RegistryError when it rejects the credentials or TLS fails. Every other
  /// response is returned.
  HttpResponse send(const Reference& reference, Access access,
                    HttpRequest request,
                    const std::function<void()>& prepare = {});

  /// Sends a cross-repository mount request into `reference`'s repository
  /// as send() does, with a bearer token (when the registry uses tokens)
  /// that grants push there and pull on `fromRepository`.
  HttpResponse sendMount(const Reference& reference,
                         const std::string& fromRepository,
                         HttpRequest request);

  /// Throws the RegistryError that fits an unexpected response: not found
  /// for 404, unauthorized for 401 and 403, rejected for other statuses.
  [[noreturn]] void fail(const Reference& reference,
                         const HttpResponse& response,
                         const std::string& what) const;

  HttpClient& http() { return http_; }

 private:
  bool plainHttp(const std::string& host) const;
  std::string scope(const Reference& reference, Access access) const;
  HttpResponse sendWithScopes(const Reference& reference,
                              const std::vector<std::string>& scopes,
                              HttpRequest request,
                              const std::function<void()>& prepare);
  void authenticate(const Reference& reference,
                    const std::vector<std::string>& scopes,
                    const HttpResponse& challengeResponse);
  std::string fetchToken(const Reference& reference,
                         const AuthChallenge& challenge,
                         const std::vector<std::string>& scopes);
  [[noreturn]] void unauthorized(const Reference& reference, long status) const;
  [[noreturn]] void unreachable(const Reference& reference,
                                const std::string& url,
                                const HttpTransportError& error) const;

  std::vector<std::string> plainHttpRegistries_;
  std::filesystem::path dockerConfig_;
  int maxAttempts_;
  HttpClient http_;
  /// "registry|scope[ scope...]" -> Authorization header value.
  std::map<std::string, std::string> authorization_;
  std::map<std::string, DockerConfigEntry> configEntries_;
};

}  // namespace kiln::oci
