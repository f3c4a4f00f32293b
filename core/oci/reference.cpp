#include "core/oci/reference.h"

#include <regex>

#include "core/oci/descriptor.h"
#include "util/error.h"
#include "util/strings.h"

namespace kiln::oci {

namespace {

constexpr const char* kDockerHub = "docker.io";

[[noreturn]] void invalid(std::string_view text, const std::string& why) {
  throw UsageError(
      "invalid image reference '" + std::string(text) + "': " + why,
      "write it as [REGISTRY[:PORT]/]NAME[:TAG][@sha256:DIGEST], "
      "such as node:20 or 127.0.0.1:5000/bases/node20:1");
}

// Docker treats the first component as a registry host when it has a '.'
// or a ':' or is "localhost". Otherwise the image is on Docker Hub.
bool looksLikeHost(std::string_view component) {
  return component.find_first_of(".:") != std::string_view::npos ||
         component == "localhost" || startsWith(component, "[");
}

std::string toLower(std::string text) {
  for (char& c : text) {
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
  }
  return text;
}

}  // namespace

Reference Reference::parse(std::string_view text) {
  static const std::regex kHost(
      "(\\[[0-9A-Fa-f:.]+\\]|[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?"
      "(\\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*)(:[0-9]{1,5})?");
  static const std::regex kComponent("[a-z0-9]+((\\.|_|__|-+)[a-z0-9]+)*");
  static const std::regex kTag("[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}");

  if (text.empty()) {
    invalid(text, "it is empty");
  }
  Reference reference;
  std::string_view rest = text;
  if (auto at = rest.find('@'); at != std::string_view::npos) {
    std::string_view digest = rest.substr(at + 1);
    reference.digest = parseDigestString(digest);
    if (!reference.digest) {
      invalid(text, "the digest '" + std::string(digest) +
                        "' is not sha256:<64 lower-case hex digits>");
    }
    rest = rest.substr(0, at);
  }
  // A tag follows the last ':' that comes after the last '/', so that a
  // registry port ("host:5000/name") is not taken for a tag.
  std::size_t slash = rest.rfind('/');
  std::size_t colon = rest.rfind(':');
  if (colon != std::string_view::npos &&
      (slash == std::string_view::npos || colon > slash)) {
    reference.tag = std::string(rest.substr(colon + 1));
    rest = rest.substr(0, colon);
    if (!std::regex_match(reference.tag, kTag)) {
      invalid(text, "the tag '" + reference.tag + "' is not valid");
    }
  }

  std::size_t firstSlash = rest.find('/');
  std::string_view first = rest.substr(0, firstSlash);
  if (firstSlash != std::string_view::npos && looksLikeHost(first)) {
    reference.registry = std::string(first);
    rest = rest.substr(firstSlash + 1);
    if (!std::regex_match(reference.registry, kHost)) {
      invalid(text, "the registry '" + reference.registry +
                        "' is not a valid host[:port]");
    }
  } else {
    reference.registry = kDockerHub;
  }
  if (reference.registry == "index.docker.io") {
    reference.registry = kDockerHub;
  }

  reference.repository = std::string(rest);
  if (reference.registry == kDockerHub &&
      reference.repository.find('/') == std::string::npos) {
    reference.repository = "library/" + reference.repository;
  }
  for (const auto& component : split(reference.repository, '/')) {
    if (!std::regex_match(component, kComponent)) {
      std::string why = "the name component '" + component + "' is not valid";
      if (std::regex_match(toLower(component), kComponent)) {
        why += " (repository names must be lower-case)";
      }
      invalid(text, why);
    }
  }
  if (reference.repository.size() > 255) {
    invalid(text, "the name is longer than 255 characters");
  }
  if (reference.tag.empty() && !reference.digest) {
    reference.tag = "latest";
  }
  return reference;
}

std::string Reference::name() const {
  return registry + "/" + repository;
}

std::string Reference::str() const {
  std::string text = name();
  if (!tag.empty()) {
    text += ":" + tag;
  }
  if (digest) {
    text += "@" + digestString(*digest);
  }
  return text;
}

std::string Reference::apiHost() const {
  return registry == kDockerHub ? "registry-1.docker.io" : registry;
}

std::string Reference::manifestReference() const {
  return digest ? digestString(*digest) : tag;
}

}  // namespace kiln::oci
