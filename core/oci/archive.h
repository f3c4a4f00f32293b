#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "core/oci/layout.h"

namespace kiln::oci {

/// Writes image `name` of `layout` as an oci-archive: a tar of an OCI image
/// layout that holds only that image (its linux/amd64 manifest, config and
/// layers), named `name` in index.json. skopeo and podman read it as
/// `oci-archive:FILE`. The tar is deterministic: entries sorted, mode 0755
/// or 0644, owner 0:0, every mtime `mtime`. `output` is replaced atomically.
/// Throws UsageError for an unknown name and DigestMismatchError for a
/// damaged blob.
void writeOciArchive(const Layout& layout, std::string_view name,
                     const std::filesystem::path& output,
                     std::int64_t mtime = 0);

/// Writes image `name` of `layout` as a docker-archive, the format of
/// `docker save`: manifest.json with RepoTags [dockerRepoTag(name, tag)],
/// the config as <hex>.json and each layer uncompressed as
/// <diff ID hex>/layer.tar. `docker load` and `podman load` accept it. Each
/// layer is decompressed twice (to learn its size, then to write it) and
/// checked against the config's diff_ids. The tar is deterministic as for
/// writeOciArchive. Throws UsageError for an unknown name or a name that is
/// not a valid Docker repository, and DigestMismatchError for a damaged
/// blob or a layer that does not match its diff ID.
void writeDockerArchive(const Layout& layout, std::string_view name,
                        std::string_view tag,
                        const std::filesystem::path& output,
                        std::int64_t mtime = 0);

/// Returns "kiln/<name>:<tag>"; throws UsageError unless it is a valid
/// Docker reference (lower-case repository, tag of at most 128 characters).
std::string dockerRepoTag(std::string_view name, std::string_view tag);

}  // namespace kiln::oci
