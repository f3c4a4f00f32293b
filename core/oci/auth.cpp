#include "core/oci/auth.h"

#include <openssl/evp.h>

#include <cstdlib>
#include <nlohmann/json.hpp>

#include "util/atomic_file.h"
#include "util/error.h"
#include "util/strings.h"

namespace kiln::oci {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

bool isTokenChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) ||
         std::string_view("!#$%&'*+-.^_`|~/").find(c) != std::string_view::npos;
}

std::string lower(std::string_view text) {
  std::string result(text);
  for (char& c : result) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return result;
}

// A cursor over a header value.
struct Scanner {
  std::string_view text;
  std::size_t pos = 0;

  bool done() const { return pos >= text.size(); }
  char peek() const { return done() ? '\0' : text[pos]; }
  void skipSpaces() {
    while (!done() && (text[pos] == ' ' || text[pos] == '\t')) {
      ++pos;
    }
  }
  std::string_view token() {
    std::size_t start = pos;
    while (!done() && isTokenChar(text[pos])) {
      ++pos;
    }
    return text.substr(start, pos - start);
  }
  // Reads a quoted string after its opening quote; false if unterminated.
  bool quoted(std::string* value) {
    ++pos;
    while (!done()) {
      char c = text[pos++];
      if (c == '"') {
        return true;
      }
      if (c == '\\' && !done()) {
        c = text[pos++];
      }
      value->push_back(c);
    }
    return false;
  }
};

// Returns true if the scanner is at "name =" (an auth-param), without
// moving it.
bool atParam(Scanner scanner) {
  if (scanner.token().empty()) {
    return false;
  }
  scanner.skipSpaces();
  return scanner.peek() == '=';
}

// Strips a scheme and any path from a key of the `auths` map.
std::string hostOfKey(std::string_view key) {
  if (auto scheme = key.find("://"); scheme != std::string_view::npos) {
    key = key.substr(scheme + 3);
  }
  return std::string(key.substr(0, key.find('/')));
}

bool isDockerHub(std::string_view host) {
  return host == "docker.io" || host == "index.docker.io" ||
         host == "registry-1.docker.io";
}

}  // namespace

std::vector<AuthChallenge> parseWwwAuthenticate(std::string_view header) {
  std::vector<AuthChallenge> challenges;
  Scanner scanner{header};
  while (true) {
    while (scanner.peek() == ',' || scanner.peek() == ' ' ||
           scanner.peek() == '\t') {
      ++scanner.pos;
    }
    std::string_view scheme = scanner.token();
    if (scheme.empty()) {
      return challenges;
    }
    AuthChallenge challenge;
    challenge.scheme = lower(scheme);
    scanner.skipSpaces();
    while (atParam(scanner)) {
      std::string name = lower(scanner.token());
      scanner.skipSpaces();
      ++scanner.pos;  // '='
      scanner.skipSpaces();
      std::string value;
      if (scanner.peek() == '"') {
        if (!scanner.quoted(&value)) {
          challenges.push_back(std::move(challenge));
          return challenges;
        }
      } else {
        value = std::string(scanner.token());
      }
      challenge.params[name] = value;
      scanner.skipSpaces();
      if (scanner.peek() != ',') {
        break;
      }
      ++scanner.pos;
      scanner.skipSpaces();
    }
    challenges.push_back(std::move(challenge));
    if (!scanner.done() && !isTokenChar(scanner.peek()) &&
        scanner.peek() != ',') {
      return challenges;  // malformed: stop here
    }
  }
}

fs::path defaultDockerConfigPath() {
  if (const char* dir = std::getenv("DOCKER_CONFIG"); dir && *dir) {
    return fs::path(dir) / "config.json";
  }
  const char* home = std::getenv("HOME");
  return fs::path(home != nullptr ? home : "/") / ".docker" / "config.json";
}

DockerConfigEntry readDockerConfig(const fs::path& file,
                                   std::string_view registry) {
  DockerConfigEntry entry;
  std::string text;
  if (!fs::exists(file)) {
    return entry;
  }
  if (!tryReadFile(file, &text)) {
    throw UsageError("cannot read the Docker config file " + file.string(),
                     "check its permissions, or point DOCKER_CONFIG at "
                     "another folder");
  }
  json config = json::parse(text, nullptr, false);
  if (config.is_discarded() || !config.is_object()) {
    throw UsageError("invalid JSON in the Docker config file " + file.string(),
                     "fix the file, or point DOCKER_CONFIG at another folder");
  }
  bool hub = isDockerHub(registry);
  auto matches = [&](std::string_view key) {
    std::string host = hostOfKey(key);
    return host == registry || (hub && isDockerHub(host));
  };
  if (config.contains("credsStore")) {
    entry.usesHelper = true;
  }
  json helpers = config.value("credHelpers", json::object());
  for (const auto& [key, value] : helpers.items()) {
    if (matches(key)) {
      entry.usesHelper = true;
    }
  }
  json auths = config.value("auths", json::object());
  for (const auto& [key, value] : auths.items()) {
    if (!matches(key) || !value.is_object()) {
      continue;
    }
    std::string auth = value.value("auth", "");
    if (!auth.empty()) {
      std::optional<std::string> decoded = base64Decode(auth);
      std::size_t colon = decoded ? decoded->find(':') : std::string::npos;
      if (colon == std::string::npos) {
        throw UsageError("the `auth` field for " + key + " in " +
                             file.string() + " is not base64 of USER:PASSWORD",
                         "log in again, or fix the entry");
      }
      entry.credentials =
          Credentials{decoded->substr(0, colon), decoded->substr(colon + 1)};
      return entry;
    }
    if (value.contains("username") && value.contains("password")) {
      entry.credentials =
          Credentials{value.value("username", ""), value.value("password", "")};
      return entry;
    }
    // NOTE: an `identitytoken` (an OAuth2 refresh token from `docker login`
    // to some registries) is not used; such entries count as anonymous.
  }
  return entry;
}

std::string redactUrl(std::string_view url) {
  std::string result;
  std::size_t scheme = url.find("://");
  std::size_t hostStart = scheme == std::string_view::npos ? 0 : scheme + 3;
  std::size_t pathStart = url.find_first_of("/?#", hostStart);
  std::string_view authority = url.substr(
      hostStart, pathStart == std::string_view::npos ? std::string_view::npos
                                                     : pathStart - hostStart);
  if (auto at = authority.rfind('@'); at != std::string_view::npos) {
    authority = authority.substr(at + 1);
  }
  result = std::string(url.substr(0, hostStart)) + std::string(authority);
  if (pathStart != std::string_view::npos) {
    std::string_view rest = url.substr(pathStart);
    std::size_t query = rest.find_first_of("?#");
    result += std::string(rest.substr(0, query));
    if (query != std::string_view::npos) {
      result += "?...";
    }
  }
  return result;
}

std::string base64Encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  int length =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                      reinterpret_cast<const unsigned char*>(bytes.data()),
                      static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(length));
  return out;
}

std::optional<std::string> base64Decode(std::string_view text) {
  std::string input(text);
  while (!input.empty() && (input.back() == '\n' || input.back() == ' ')) {
    input.pop_back();
  }
  while (input.size() % 4 != 0) {
    input.push_back('=');
  }
  std::string out(3 * input.size() / 4, '\0');
  int length =
      EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                      reinterpret_cast<const unsigned char*>(input.data()),
                      static_cast<int>(input.size()));
  if (length < 0) {
    return std::nullopt;
  }
  // EVP_DecodeBlock counts the padding as zero bytes; drop them.
  std::size_t padding = 0;
  for (auto it = input.rbegin(); it != input.rend() && *it == '='; ++it) {
    ++padding;
  }
  out.resize(static_cast<std::size_t>(length) - padding);
  return out;
}

}  // namespace kiln::oci
