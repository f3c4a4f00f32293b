#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kiln::oci {

/// One challenge of a WWW-Authenticate header (RFC 7235).
struct AuthChallenge {
  std::string scheme;                         // lower-case: "bearer", "basic"
  std::map<std::string, std::string> params;  // lower-case names: "realm"
};

/// Parses a WWW-Authenticate header value into its challenges, such as
/// `Bearer realm="https://auth.docker.io/token",service="registry.docker.io",
/// scope="repository:library/node:pull"`. Quoted values may hold commas and
/// backslash escapes. Malformed input yields the challenges parsed before
/// it.
std::vector<AuthChallenge> parseWwwAuthenticate(std::string_view header);

/// A user name and password for a registry.
struct Credentials {
  std::string username;
  std::string password;
};

/// The credentials and helper settings of a Docker config file for one
/// registry.
struct DockerConfigEntry {
  std::optional<Credentials> credentials;
  /// True when the file names a credential helper (credsStore, or a
  /// credHelpers entry for the registry); kiln does not run helpers.
  bool usesHelper = false;
};

/// The Docker client configuration file: $DOCKER_CONFIG/config.json when
/// DOCKER_CONFIG is set, else $HOME/.docker/config.json.
std::filesystem::path defaultDockerConfigPath();

/// Reads the `auths` entry for `registry` ("docker.io", "127.0.0.1:5000")
/// from a Docker config file: the base64 `auth` field ("user:password"), or
/// `username` and `password`. Keys may carry a scheme and a path
/// ("https://index.docker.io/v1/"). A missing file yields no credentials;
/// an unreadable or invalid one throws UsageError naming the file.
DockerConfigEntry readDockerConfig(const std::filesystem::path& file,
                                   std::string_view registry);

/// Returns the URL without user information and without its query string,
/// which may carry signatures ("https://host/v2/x?_state=..." becomes
/// "https://host/v2/x?..."), for messages and logs.
std::string redactUrl(std::string_view url);

/// Standard base64 with padding.
std::string base64Encode(std::string_view bytes);

/// Decodes standard base64 (padding optional); nullopt when invalid.
std::optional<std::string> base64Decode(std::string_view text);

}  // namespace kiln::oci
