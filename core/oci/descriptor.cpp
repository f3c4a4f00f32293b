#include "core/oci/descriptor.h"

#include <nlohmann/json.hpp>
#include <stdexcept>

#include "util/strings.h"

namespace kiln::oci {

using nlohmann::json;

std::string digestString(const Digest& digest) {
  return "sha256:" + digest.hex();
}

std::optional<Digest> parseDigestString(std::string_view text) {
  constexpr std::string_view kPrefix = "sha256:";
  if (!startsWith(text, kPrefix)) {
    return std::nullopt;
  }
  std::string_view hex = text.substr(kPrefix.size());
  // The OCI specification allows only lower-case hexadecimal digits.
  for (char c : hex) {
    if (c >= 'A' && c <= 'F') {
      return std::nullopt;
    }
  }
  Digest digest;
  if (!Digest::parse(hex, &digest)) {
    return std::nullopt;
  }
  return digest;
}

bool isIndexMediaType(std::string_view mediaType) {
  return mediaType == media::kOciIndex ||
         mediaType == media::kDockerManifestList;
}

bool isManifestMediaType(std::string_view mediaType) {
  return mediaType == media::kOciManifest ||
         mediaType == media::kDockerManifest;
}

json Descriptor::toJson() const {
  json object = json::object();
  object["mediaType"] = mediaType;
  object["digest"] = digestString(digest);
  object["size"] = size;
  if (!annotations.empty()) {
    object["annotations"] = annotations;
  }
  if (!urls.empty()) {
    object["urls"] = urls;
  }
  if (platform) {
    json platformJson = {{"architecture", platform->architecture},
                         {"os", platform->os}};
    if (!platform->variant.empty()) {
      platformJson["variant"] = platform->variant;
    }
    object["platform"] = platformJson;
  }
  return object;
}

namespace {

[[noreturn]] void invalidField(std::string_view field, std::string_view why) {
  throw std::runtime_error("invalid descriptor: field '" + std::string(field) +
                           "' " + std::string(why));
}

std::string requireString(const json& object, const char* field) {
  auto it = object.find(field);
  if (it == object.end()) {
    invalidField(field, "is missing");
  }
  if (!it->is_string()) {
    invalidField(field, "is not a string");
  }
  return it->get<std::string>();
}

}  // namespace

Descriptor Descriptor::fromJson(const json& object) {
  if (!object.is_object()) {
    throw std::runtime_error("invalid descriptor: expected a JSON object");
  }

  Descriptor descriptor;
  descriptor.mediaType = requireString(object, "mediaType");
  std::string digest = requireString(object, "digest");
  auto parsed = parseDigestString(digest);
  if (!parsed) {
    invalidField("digest", "is not sha256:<64 hex digits>: '" + digest + "'");
  }
  descriptor.digest = *parsed;

  auto size = object.find("size");
  if (size == object.end() || !size->is_number_integer() ||
      size->get<std::int64_t>() < 0) {
    invalidField("size", "is missing or not a non-negative integer");
  }
  descriptor.size = size->get<std::int64_t>();

  // Optional fields: entries of the wrong JSON type are skipped.
  if (auto it = object.find("annotations");
      it != object.end() && it->is_object()) {
    for (const auto& [key, value] : it->items()) {
      if (value.is_string()) {
        descriptor.annotations[key] = value.get<std::string>();
      }
    }
  }
  if (auto it = object.find("urls"); it != object.end() && it->is_array()) {
    for (const auto& url : *it) {
      if (url.is_string()) {
        descriptor.urls.push_back(url.get<std::string>());
      }
    }
  }
  if (auto it = object.find("platform");
      it != object.end() && it->is_object()) {
    Platform platform;
    platform.architecture = it->value("architecture", "");
    platform.os = it->value("os", "");
    platform.variant = it->value("variant", "");
    descriptor.platform = platform;
  }
  return descriptor;
}

std::optional<Descriptor> selectLinuxAmd64(
    const std::vector<Descriptor>& manifests) {
  for (const auto& manifest : manifests) {
    if (manifest.platform && manifest.platform->os == "linux" &&
        manifest.platform->architecture == "amd64") {
      return manifest;
    }
  }
  if (manifests.size() == 1 && !manifests.front().platform) {
    return manifests.front();
  }
  return std::nullopt;
}

std::string describePlatforms(const std::vector<Descriptor>& manifests) {
  std::vector<std::string> names;
  for (const auto& manifest : manifests) {
    if (manifest.platform) {
      names.push_back(manifest.platform->os + "/" +
                      manifest.platform->architecture);
    } else {
      names.push_back("(no platform)");
    }
  }
  return names.empty() ? "no manifests" : join(names, ", ");
}

std::string canonicalJson(const json& value) {
  // nlohmann::json keeps object members in a std::map, so dump() writes keys
  // in byte order. The strict handler throws on invalid UTF-8 instead of
  // replacing bytes.
  return value.dump(-1, ' ', false, json::error_handler_t::strict);
}

json parseJson(std::string_view text, std::string_view what) {
  try {
    return json::parse(text);
  } catch (const json::parse_error& error) {
    throw std::runtime_error("invalid JSON in " + std::string(what) + ": " +
                             error.what());
  }
}

}  // namespace kiln::oci
