#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/oci/descriptor.h"
#include "util/sha256.h"

namespace kiln::oci {

/// The runtime settings of a new image, applied over the base image's.
struct ImageConfig {
  /// "NAME=value" entries. A name the base already sets is replaced in
  /// place; new names are appended in the order given.
  std::vector<std::string> env;
  /// Replaces the base's entrypoint. Setting it without `cmd` clears the
  /// base's cmd, as a Dockerfile ENTRYPOINT does. An empty list removes it.
  std::optional<std::vector<std::string>> entrypoint;
  /// Replaces the base's cmd; an empty list removes it.
  std::optional<std::vector<std::string>> cmd;
  std::optional<std::string> workingDir;
  /// "user", "uid", "uid:gid" or "user:group".
  std::optional<std::string> user;
  /// "8080/tcp", "53/udp" or "8080" (tcp), added to the base's ports.
  std::vector<std::string> exposedPorts;
  /// Added to the base's labels, replacing equal keys.
  std::map<std::string, std::string> labels;
  /// "SIGTERM", "SIGQUIT"...; replaces the base's.
  std::optional<std::string> stopSignal;
};

/// A base image, as the manifest and config blobs that a registry or a
/// layout stores. Its layer blobs must be stored next to the new image.
struct BaseImage {
  std::string manifest;
  std::string config;
  /// The reference it came from ("docker.io/library/node:20"), for the
  /// org.opencontainers.image.base.name annotation; may be empty.
  std::string name;
};

/// A layer to put on top of the base.
struct ImageLayer {
  Descriptor descriptor;  // media type, digest and size of the blob
  Digest diffId;          // SHA-256 of the uncompressed tar
  std::string createdBy;  // the history entry's created_by text
};

/// Everything that defines a new image.
struct ImageSpec {
  std::optional<BaseImage> base;  // none: start from scratch
  std::vector<ImageLayer> layers;
  ImageConfig config;
  /// The config's `created` time and every new history entry's, in seconds
  /// since the epoch: kiln passes SOURCE_DATE_EPOCH, else 0.
  std::int64_t created = 0;
  /// Extra manifest annotations.
  std::map<std::string, std::string> annotations;
};

/// The config and manifest of an assembled image, as canonical JSON.
struct AssembledImage {
  std::string config;
  Descriptor configDescriptor;
  std::string manifest;
  Descriptor manifestDescriptor;
  std::vector<Descriptor> layers;  // base layers first, then the new ones
};

/// Builds the OCI image config and manifest for linux/amd64. The config
/// starts from the base's (keeping its runtime settings and history, minus
/// Docker's container, container_config and docker_version fields) and the
/// manifest lists the base's layers and then the new ones. Docker base layer
/// media types are converted to their OCI equivalents, whose blobs are the
/// same bytes: ...rootfs.diff.tar.gzip becomes ...layer.v1.tar+gzip and
/// ...rootfs.foreign.diff.tar.gzip becomes
/// ...layer.nondistributable.v1.tar+gzip. Throws UsageError for a base
/// image of another platform or an invalid port, and std::runtime_error for
/// a base whose manifest or config is invalid.
AssembledImage assembleImage(const ImageSpec& spec);

/// Formats seconds since the epoch as RFC 3339 UTC ("1970-01-01T00:00:00Z").
std::string formatTimestamp(std::int64_t seconds);

/// Returns the OCI media type for a base layer's media type, as
/// assembleImage converts it. Throws std::runtime_error for a media type
/// that is not a layer.
std::string ociLayerMediaType(std::string_view mediaType);

}  // namespace kiln::oci
