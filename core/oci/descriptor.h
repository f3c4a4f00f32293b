#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/sha256.h"

namespace kiln::oci {

/// Media types of the OCI image specification (v1.0) and of Docker's image
/// manifest v2, schema 2.
namespace media {
inline constexpr std::string_view kOciIndex =
    "application/vnd.oci.image.index.v1+json";
inline constexpr std::string_view kOciManifest =
    "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view kOciConfig =
    "application/vnd.oci.image.config.v1+json";
inline constexpr std::string_view kOciLayerTar =
    "application/vnd.oci.image.layer.v1.tar";
inline constexpr std::string_view kOciLayerGzip =
    "application/vnd.oci.image.layer.v1.tar+gzip";
inline constexpr std::string_view kOciLayerZstd =
    "application/vnd.oci.image.layer.v1.tar+zstd";
inline constexpr std::string_view kOciNondistributableTar =
    "application/vnd.oci.image.layer.nondistributable.v1.tar";
inline constexpr std::string_view kOciNondistributableGzip =
    "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip";
inline constexpr std::string_view kOciNondistributableZstd =
    "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd";
inline constexpr std::string_view kDockerManifest =
    "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr std::string_view kDockerManifestList =
    "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr std::string_view kDockerConfig =
    "application/vnd.docker.container.image.v1+json";
inline constexpr std::string_view kDockerLayerGzip =
    "application/vnd.docker.image.rootfs.diff.tar.gzip";
inline constexpr std::string_view kDockerForeignLayerGzip =
    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";
}  // namespace media

/// The annotation that names an image in an OCI image layout's index.json.
inline constexpr std::string_view kRefNameAnnotation =
    "org.opencontainers.image.ref.name";

/// Formats a digest as "sha256:<64 hex>".
std::string digestString(const Digest& digest);

/// Parses "sha256:<64 hex>"; returns nullopt for anything else, including
/// other algorithms.
std::optional<Digest> parseDigestString(std::string_view text);

/// Returns true for an image index or a Docker manifest list.
bool isIndexMediaType(std::string_view mediaType);

/// Returns true for an OCI image manifest or a Docker v2 schema 2 manifest.
bool isManifestMediaType(std::string_view mediaType);

/// An image's platform, as in an index entry.
struct Platform {
  std::string architecture;
  std::string os;
  std::string variant;
};

/// A content descriptor: the media type, digest and size of a blob, plus the
/// optional fields of the OCI image specification.
struct Descriptor {
  std::string mediaType;
  Digest digest;
  std::int64_t size = 0;
  std::map<std::string, std::string> annotations;
  std::vector<std::string> urls;
  std::optional<Platform> platform;

  /// The JSON object, with empty optional fields left out.
  nlohmann::json toJson() const;

  /// Parses a descriptor object; throws std::runtime_error naming the field
  /// when one is missing or invalid.
  static Descriptor fromJson(const nlohmann::json& json);

  bool operator==(const Descriptor&) const = default;
};

/// Picks the linux/amd64 entry of an index's manifests (any variant). An
/// index with a single entry that names no platform, as image layouts often
/// have, yields that entry. Returns nullopt when nothing matches.
std::optional<Descriptor> selectLinuxAmd64(
    const std::vector<Descriptor>& manifests);

/// Lists an index's platforms as "os/architecture" for error messages.
std::string describePlatforms(const std::vector<Descriptor>& manifests);

/// Serializes JSON canonically: object keys sorted by their UTF-8 bytes, no
/// insignificant whitespace, strings as UTF-8 with only the escapes JSON
/// requires. Equal values give equal bytes, so digests of manifests and
/// configs are stable.
std::string canonicalJson(const nlohmann::json& json);

/// Parses JSON text from a blob; throws std::runtime_error naming `what`
/// when the text is not valid JSON.
nlohmann::json parseJson(std::string_view text, std::string_view what);

}  // namespace kiln::oci
