#include "core/oci/registry_session.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/oci/errors.h"
#include "core/oci/registry.h"
#include "util/strings.h"

namespace kiln::oci {

using nlohmann::json;

namespace {

bool retryableStatus(long status) {
  return status == 429 || status == 500 || status == 502 || status == 503 ||
         status == 504;
}

bool retryableTransport(const HttpTransportError& error) {
  using Kind = HttpTransportError::Kind;
  return error.kind() == Kind::timeout || error.kind() == Kind::other;
}

// 0.5 s before the second attempt, 1 s before the third, and so on.
void backOff(int attempt) {
  std::this_thread::sleep_for(std::chrono::milliseconds(500) *
                              (1 << std::min(attempt - 1, 4)));
}

// "HTTP 404 (MANIFEST_UNKNOWN: manifest unknown)" from an error body of the
// distribution API, or just "HTTP 404".
std::string describeStatus(const HttpResponse& response) {
  std::string text = "HTTP " + std::to_string(response.status);
  json body = json::parse(response.body, nullptr, false);
  if (body.is_object() && body.contains("errors") &&
      body["errors"].is_array() && !body["errors"].empty() &&
      body["errors"][0].is_object()) {
    const json& error = body["errors"][0];
    text += " (" + error.value("code", std::string("error")) + ": " +
            error.value("message", std::string()) + ")";
  }
  return text;
}

// Builds the hint for a registry that serves plain HTTP, which kiln reaches
// only when "http://" is written in front of the registry.
std::string plainHttpHint(const Reference& reference) {
  std::size_t slash = reference.repository.rfind('/');
  std::string destination =
      reference.registry + (slash == std::string::npos
                                ? ""
                                : "/" + reference.repository.substr(0, slash));
  return "if " + reference.registry +
         " serves plain HTTP, write http:// in front of the registry, as in "
         "`kiln push http://" +
         destination + "` or `base: http://" + reference.str() + "`";
}

std::string joinScopes(const std::vector<std::string>& scopes) {
  std::string joined;
  for (const auto& scope : scopes) {
    joined += (joined.empty() ? "" : " ") + scope;
  }
  return joined;
}

std::string hostOfUrl(const std::string& url) {
  std::size_t start = url.find("://");
  start = start == std::string::npos ? 0 : start + 3;
  std::size_t end = url.find_first_of("/?#", start);
  return url.substr(start, end == std::string::npos ? end : end - start);
}

}  // namespace

RegistrySession::RegistrySession(const RegistryOptions& options)
    : plainHttpRegistries_(options.plainHttpRegistries),
      dockerConfig_(options.dockerConfig.value_or(defaultDockerConfigPath())),
      maxAttempts_(std::max(1, options.maxAttempts)),
      http_(options.limits) {}

bool RegistrySession::plainHttp(const std::string& host) const {
  return std::find(plainHttpRegistries_.begin(), plainHttpRegistries_.end(),
                   host) != plainHttpRegistries_.end();
}

// NOTE: the tests reach registries on loopback over plain HTTP only, so the
// HTTPS path (libcurl's default certificate checks) and Docker Hub's token
// server are not exercised by them.
std::string RegistrySession::originUrl(const Reference& reference) const {
  return (plainHttp(reference.registry) ? "http://" : "https://") +
         reference.apiHost();
}

std::string RegistrySession::repositoryUrl(const Reference& reference) const {
  return originUrl(reference) + "/v2/" + reference.repository + "/";
}

std::string RegistrySession::scope(const Reference& reference,
                                   Access access) const {
  return "repository:" + reference.repository +
         (access == Access::push ? ":pull,push" : ":pull");
}

HttpResponse RegistrySession::send(const Reference& reference, Access access,
                                   HttpRequest request,
                                   const std::function<void()>& prepare) {
  return sendWithScopes(reference, {scope(reference, access)},
                        std::move(request), prepare);
}

HttpResponse RegistrySession::sendMount(const Reference& reference,
                                        const std::string& fromRepository,
                                        HttpRequest request) {
  // A token server grants each scope on its own, and the registry checks
  // pull access to the source repository of a mount too.
  return sendWithScopes(reference,
                        {scope(reference, Access::push),
                         "repository:" + fromRepository + ":pull"},
                        std::move(request), {});
}

HttpResponse RegistrySession::sendWithScopes(
    const Reference& reference, const std::vector<std::string>& scopes,
    HttpRequest request, const std::function<void()>& prepare) {
  std::string key = reference.registry + "|" + joinScopes(scopes);
  std::string origin = originUrl(reference);
  bool authenticated = false;
  int attempt = 1;
  while (true) {
    HttpRequest sent = request;
    auto authorization = authorization_.find(key);
    // Credentials go only to the registry itself, never to another host
    // that an upload Location names.
    if (authorization != authorization_.end() &&
        hostOfUrl(sent.url) == hostOfUrl(origin)) {
      sent.headers.push_back("Authorization: " + authorization->second);
    }
    if (prepare) {
      prepare();
    }
    HttpResponse response;
    try {
      response = http_.perform(sent);
    } catch (const HttpTransportError& error) {
      if (retryableTransport(error) && attempt < maxAttempts_) {
        backOff(attempt++);
        continue;
      }
      unreachable(reference, sent.url, error);
    }
    if (response.status == 401 && !authenticated) {
      authenticate(reference, scopes, response);
      authenticated = true;
      continue;
    }
    if (response.status == 401 || response.status == 403) {
      unauthorized(reference, response.status);
    }
    if (retryableStatus(response.status) && attempt < maxAttempts_) {
      backOff(attempt++);
      continue;
    }
    return response;
  }
}

void RegistrySession::authenticate(const Reference& reference,
                                   const std::vector<std::string>& scopes,
                                   const HttpResponse& challengeResponse) {
  std::vector<AuthChallenge> challenges =
      parseWwwAuthenticate(challengeResponse.header("www-authenticate"));
  const AuthChallenge* bearer = nullptr;
  const AuthChallenge* basic = nullptr;
  for (const auto& challenge : challenges) {
    if (challenge.scheme == "bearer" && bearer == nullptr) {
      bearer = &challenge;
    } else if (challenge.scheme == "basic" && basic == nullptr) {
      basic = &challenge;
    }
  }
  std::string key = reference.registry + "|" + joinScopes(scopes);
  if (bearer != nullptr) {
    authorization_[key] = "Bearer " + fetchToken(reference, *bearer, scopes);
    return;
  }
  auto entry = configEntries_.find(reference.registry);
  if (entry == configEntries_.end()) {
    entry = configEntries_
                .emplace(reference.registry,
                         readDockerConfig(dockerConfig_, reference.registry))
                .first;
  }
  if (basic == nullptr || !entry->second.credentials) {
    unauthorized(reference, 401);
  }
  const Credentials& credentials = *entry->second.credentials;
  authorization_[key] = "Basic " + base64Encode(credentials.username + ":" +
                                                credentials.password);
}

std::string RegistrySession::fetchToken(
    const Reference& reference, const AuthChallenge& challenge,
    const std::vector<std::string>& scopes) {
  auto realm = challenge.params.find("realm");
  if (realm == challenge.params.end() || realm->second.empty()) {
    throw RegistryError(RegistryFailure::rejected,
                        "registry " + reference.registry +
                            " asked for a bearer token but named no realm");
  }
  std::string url = realm->second;
  bool https = startsWith(url, "https://");
  if (!https && !(startsWith(url, "http://") && plainHttp(hostOfUrl(url)))) {
    std::string hint =
        hostOfUrl(url) == reference.registry
            ? plainHttpHint(reference)
            : "kiln accepts a plain-HTTP token server only on the host:port "
              "of the registry itself, when the registry is written with "
              "http:// in front; use an HTTPS token server";
    throw RegistryError(RegistryFailure::rejected,
                        "registry " + reference.registry +
                            " named the token server " + redactUrl(url) +
                            ", which is not HTTPS",
                        hint);
  }
  url += url.find('?') == std::string::npos ? "?" : "&";
  if (auto service = challenge.params.find("service");
      service != challenge.params.end()) {
    url += "service=" + http_.escape(service->second) + "&";
  }
  // One scope parameter per scope, as the Docker token protocol has it.
  for (std::size_t i = 0; i < scopes.size(); ++i) {
    url += (i == 0 ? "scope=" : "&scope=") + http_.escape(scopes[i]);
  }

  auto entry = configEntries_.find(reference.registry);
  if (entry == configEntries_.end()) {
    entry = configEntries_
                .emplace(reference.registry,
                         readDockerConfig(dockerConfig_, reference.registry))
                .first;
  }
  HttpRequest request;
  request.url = url;
  if (entry->second.credentials) {
    const Credentials& credentials = *entry->second.credentials;
    request.headers.push_back(
        "Authorization: Basic " +
        base64Encode(credentials.username + ":" + credentials.password));
  }
  HttpResponse response;
  for (int attempt = 1;; ++attempt) {
    try {
      response = http_.perform(request);
    } catch (const HttpTransportError& error) {
      if (retryableTransport(error) && attempt < maxAttempts_) {
        backOff(attempt);
        continue;
      }
      throw RegistryUnreachableError(
          "cannot get a token for registry " + reference.registry + " from " +
              redactUrl(realm->second) + ": " + error.what(),
          "check that the token server is running and reachable from this "
          "machine");
    }
    if (retryableStatus(response.status) && attempt < maxAttempts_) {
      backOff(attempt);
      continue;
    }
    break;
  }
  if (response.status == 401 || response.status == 403) {
    unauthorized(reference, response.status);
  }
  if (response.status != 200) {
    throw RegistryError(RegistryFailure::rejected,
                        "the token server " + redactUrl(realm->second) +
                            " of registry " + reference.registry +
                            " returned HTTP " +
                            std::to_string(response.status));
  }
  json body = json::parse(response.body, nullptr, false);
  std::string token;
  if (body.is_object()) {
    token = body.value("token", body.value("access_token", std::string()));
  }
  if (token.empty()) {
    throw RegistryError(RegistryFailure::rejected,
                        "the token server " + redactUrl(realm->second) +
                            " of registry " + reference.registry +
                            " returned no token");
  }
  return token;
}

void RegistrySession::unauthorized(const Reference& reference,
                                   long status) const {
  std::string source = dockerConfig_.string();
  DockerConfigEntry entry;
  if (auto it = configEntries_.find(reference.registry);
      it != configEntries_.end()) {
    entry = it->second;
  } else {
    entry = readDockerConfig(dockerConfig_, reference.registry);
  }
  std::string code = "HTTP " + std::to_string(status);
  if (entry.credentials) {
    throw RegistryError(
        RegistryFailure::unauthorized,
        "registry " + reference.registry + " rejected the credentials from " +
            source + " (" + code +
            (status == 403 ? ", access to " + reference.repository + " denied"
                           : "") +
            ")",
        "check the `auths` entry for " + reference.registry + " in " + source +
            ", or log in again with `podman login " + reference.registry + "`");
  }
  std::string why = entry.usesHelper
                        ? source +
                              " names a credential helper, which kiln "
                              "does not run"
                        : source + " has no credentials for it";
  throw RegistryError(
      RegistryFailure::unauthorized,
      "registry " + reference.registry + " requires credentials for " +
          reference.repository + " (" + code + "), and " + why,
      "add an `auths` entry for " + reference.registry + " to " + source +
          " (`podman login --authfile " + source + " " + reference.registry +
          "` writes one), or set DOCKER_CONFIG to the folder "
          "of a config.json that has one");
}

void RegistrySession::unreachable(const Reference& reference,
                                  const std::string& url,
                                  const HttpTransportError& error) const {
  using Kind = HttpTransportError::Kind;
  std::string host = reference.apiHost();
  std::string at = " at " + redactUrl(url);
  switch (error.kind()) {
    case Kind::connect:
      throw RegistryUnreachableError(
          "cannot connect to registry " + host + at + ": " + error.what(),
          "check that a registry is running at " + host +
              " and that the image reference names the right host and port");
    case Kind::resolve:
      throw RegistryUnreachableError(
          "cannot resolve the host of registry " + host + at,
          "check the host name in the image reference and the DNS "
          "settings of this machine");
    case Kind::timeout:
      throw RegistryUnreachableError(
          "request to registry " + host + at + " " + error.what(),
          "check the network; kiln waits 10 s for a connection and ends "
          "transfers that stay below 1 KiB/s for 30 s");
    case Kind::tls:
      // Usually a registry that serves plain HTTP: the user fixes the
      // reference, so this stays a RegistryError (a UsageError).
      // NOTE: a rejected certificate is a TLS failure too, so it also ends
      // with exit status 2 and this hint.
      throw RegistryError(
          RegistryFailure::unreachable,
          "cannot reach registry " + host + at + ": " + error.what(),
          plainHttpHint(reference));
    case Kind::other:
      break;
  }
  throw RegistryUnreachableError(
      "request to registry " + host + at + " failed: " + error.what(),
      "check the network and that registry " + host + " is running");
}

void RegistrySession::fail(const Reference& reference,
                           const HttpResponse& response,
                           const std::string& what) const {
  std::string text = what + ": registry " + reference.registry + " returned " +
                     describeStatus(response);
  if (response.status == 404) {
    throw RegistryError(RegistryFailure::notFound, text,
                        "check the repository and tag (`skopeo list-tags "
                        "docker://" +
                            reference.name() + "` lists the tags)");
  }
  if (response.status == 401 || response.status == 403) {
    unauthorized(reference, response.status);
  }
  throw RegistryError(RegistryFailure::rejected, text);
}

}  // namespace kiln::oci
