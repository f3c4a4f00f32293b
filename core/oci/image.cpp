#include "core/oci/image.h"

#include <ctime>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "util/error.h"
#include "util/strings.h"

namespace kiln::oci {

using nlohmann::json;

namespace {

constexpr const char* kArchitecture = "amd64";
constexpr const char* kOs = "linux";
constexpr const char* kBaseNameAnnotation =
    "org.opencontainers.image.base.name";
constexpr const char* kBaseDigestAnnotation =
    "org.opencontainers.image.base.digest";

struct ParsedBase {
  std::vector<Descriptor> layers;
  json config = json::object();
};

ParsedBase parseBase(const BaseImage& base) {
  json manifest = parseJson(base.manifest, "the base image manifest");
  std::string mediaType = manifest.value("mediaType", "");
  if (isIndexMediaType(mediaType) || manifest.contains("manifests")) {
    throw std::runtime_error(
        "the base image manifest is an index; resolve it to the linux/amd64 "
        "image manifest first");
  }
  if (manifest.value("schemaVersion", 0) != 2 || !manifest.contains("layers") ||
      !manifest["layers"].is_array()) {
    throw std::runtime_error(
        "the base image manifest is not an OCI or Docker v2 image manifest");
  }
  ParsedBase parsed;
  for (const auto& layer : manifest["layers"]) {
    Descriptor descriptor = Descriptor::fromJson(layer);
    descriptor.mediaType = ociLayerMediaType(descriptor.mediaType);
    parsed.layers.push_back(std::move(descriptor));
  }
  parsed.config = parseJson(base.config, "the base image config");
  if (!parsed.config.is_object()) {
    throw std::runtime_error("the base image config is not a JSON object");
  }
  Descriptor configDescriptor = Descriptor::fromJson(manifest["config"]);
  if (sha256(base.config) != configDescriptor.digest) {
    throw std::runtime_error(
        "the base image config does not match the digest in its manifest (" +
        digestString(configDescriptor.digest) + ")");
  }
  return parsed;
}

void checkPlatform(const json& config, const std::string& name) {
  std::string architecture = config.value("architecture", "");
  std::string os = config.value("os", "");
  if (architecture != kArchitecture || os != kOs) {
    std::string shown = name.empty() ? "the base image" : "base image " + name;
    throw UsageError(shown + " is for " + os + "/" + architecture +
                         ", but kiln builds linux/amd64 images",
                     "use a base image that has a linux/amd64 variant");
  }
}

std::string envName(const std::string& entry) {
  return entry.substr(0, entry.find('='));
}

void mergeEnv(json& runtime, const std::vector<std::string>& env) {
  json list = runtime.contains("Env") && runtime["Env"].is_array()
                  ? runtime["Env"]
                  : json::array();
  for (const auto& entry : env) {
    if (entry.find('=') == std::string::npos || entry.front() == '=') {
      throw UsageError("invalid environment entry '" + entry + "'",
                       "write it as NAME=value");
    }
    bool replaced = false;
    for (auto& existing : list) {
      if (existing.is_string() &&
          envName(existing.get<std::string>()) == envName(entry)) {
        existing = entry;
        replaced = true;
        break;
      }
    }
    if (!replaced) {
      list.push_back(entry);
    }
  }
  if (!list.empty()) {
    runtime["Env"] = list;
  }
}

std::string normalizePort(const std::string& port) {
  std::string number = port;
  std::string protocol = "tcp";
  if (auto slash = port.find('/'); slash != std::string::npos) {
    number = port.substr(0, slash);
    protocol = port.substr(slash + 1);
  }
  bool numeric = !number.empty() && number.size() <= 5 &&
                 number.find_first_not_of("0123456789") == std::string::npos;
  long value = numeric ? std::stol(number) : 0;
  if (value < 1 || value > 65535 ||
      (protocol != "tcp" && protocol != "udp" && protocol != "sctp")) {
    throw UsageError("invalid exposed port '" + port + "'",
                     "write it as PORT or PORT/PROTOCOL, such as 8080 or "
                     "53/udp (PORT 1-65535; tcp, udp or sctp)");
  }
  return std::to_string(value) + "/" + protocol;
}

void setList(json& runtime, const char* key,
             const std::vector<std::string>& values) {
  if (values.empty()) {
    runtime.erase(key);
  } else {
    runtime[key] = values;
  }
}

json mergeRuntimeConfig(json runtime, const ImageConfig& config) {
  if (!runtime.is_object()) {
    runtime = json::object();
  }
  mergeEnv(runtime, config.env);

  if (config.entrypoint) {
    setList(runtime, "Entrypoint", *config.entrypoint);
    if (!config.cmd) {
      runtime.erase("Cmd");
    }
  }
  if (config.cmd) {
    setList(runtime, "Cmd", *config.cmd);
  }
  if (config.workingDir) {
    runtime["WorkingDir"] = *config.workingDir;
  }
  if (config.user) {
    runtime["User"] = *config.user;
  }
  if (config.stopSignal) {
    runtime["StopSignal"] = *config.stopSignal;
  }

  for (const auto& port : config.exposedPorts) {
    runtime["ExposedPorts"][normalizePort(port)] = json::object();
  }
  for (const auto& [key, value] : config.labels) {
    runtime["Labels"][key] = value;
  }

  // Docker writes null for unset lists and maps; leave no nulls behind.
  for (auto it = runtime.begin(); it != runtime.end();) {
    it = it->is_null() ? runtime.erase(it) : std::next(it);
  }
  return runtime;
}

std::string blobJson(const json& value, Descriptor* descriptor,
                     std::string_view mediaType) {
  std::string text = canonicalJson(value);
  descriptor->mediaType = std::string(mediaType);
  descriptor->digest = sha256(text);
  descriptor->size = static_cast<std::int64_t>(text.size());
  return text;
}

}  // namespace

std::string formatTimestamp(std::int64_t seconds) {
  std::time_t time = static_cast<std::time_t>(seconds);
  std::tm utc{};
  if (gmtime_r(&time, &utc) == nullptr) {
    throw std::runtime_error("invalid timestamp " + std::to_string(seconds));
  }
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return buffer;
}

std::string ociLayerMediaType(std::string_view mediaType) {
  if (mediaType == media::kDockerLayerGzip) {
    return std::string(media::kOciLayerGzip);
  }
  if (mediaType == media::kDockerForeignLayerGzip) {
    return std::string(media::kOciNondistributableGzip);
  }
  for (std::string_view known :
       {media::kOciLayerTar, media::kOciLayerGzip, media::kOciLayerZstd,
        media::kOciNondistributableTar, media::kOciNondistributableGzip,
        media::kOciNondistributableZstd}) {
    if (mediaType == known) {
      return std::string(mediaType);
    }
  }
  throw std::runtime_error("unsupported layer media type '" +
                           std::string(mediaType) + "' in the base image");
}

AssembledImage assembleImage(const ImageSpec& spec) {
  ParsedBase base;
  if (spec.base) {
    base = parseBase(*spec.base);
    checkPlatform(base.config, spec.base->name);
  }
  json config = base.config;
  for (const char* legacy :
       {"container", "container_config", "docker_version"}) {
    config.erase(legacy);
  }
  std::string created = formatTimestamp(spec.created);
  config["created"] = created;
  config["architecture"] = kArchitecture;
  config["os"] = kOs;
  config["config"] = mergeRuntimeConfig(
      config.contains("config") ? config["config"] : json::object(),
      spec.config);

  json diffIds = json::array();
  if (config.contains("rootfs") && config["rootfs"].contains("diff_ids")) {
    diffIds = config["rootfs"]["diff_ids"];
  }
  if (diffIds.size() != base.layers.size()) {
    throw std::runtime_error("the base image config lists " +
                             std::to_string(diffIds.size()) +
                             " diff_ids but its manifest has " +
                             std::to_string(base.layers.size()) + " layers");
  }
  json history = config.contains("history") && config["history"].is_array()
                     ? config["history"]
                     : json::array();
  AssembledImage image;
  image.layers = base.layers;
  for (const auto& layer : spec.layers) {
    diffIds.push_back(digestString(layer.diffId));
    history.push_back(
        {{"created", created},
         {"created_by", layer.createdBy.empty() ? "kiln" : layer.createdBy}});
    image.layers.push_back(layer.descriptor);
  }
  config["rootfs"] = {{"type", "layers"}, {"diff_ids", diffIds}};
  config["history"] = history;
  image.config = blobJson(config, &image.configDescriptor, media::kOciConfig);

  json manifest = {{"schemaVersion", 2},
                   {"mediaType", media::kOciManifest},
                   {"config", image.configDescriptor.toJson()},
                   {"layers", json::array()}};
  for (const auto& layer : image.layers) {
    manifest["layers"].push_back(layer.toJson());
  }
  std::map<std::string, std::string> annotations = spec.annotations;
  if (spec.base && !spec.base->name.empty()) {
    annotations.emplace(kBaseNameAnnotation, spec.base->name);
    annotations.emplace(kBaseDigestAnnotation,
                        digestString(sha256(spec.base->manifest)));
  }
  if (!annotations.empty()) {
    manifest["annotations"] = annotations;
  }
  image.manifest =
      blobJson(manifest, &image.manifestDescriptor, media::kOciManifest);
  return image;
}

}  // namespace kiln::oci
