#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "core/oci/image.h"
#include "core/oci/layout.h"

namespace kiln {

/// A base image ready to build on: its manifest and config, and the layout
/// that holds its layer blobs.
struct ResolvedBase {
  oci::StoredImage image;
  std::shared_ptr<const oci::Layout> layout;
  std::string name;  // the reference, for the base.name annotation
};

/// Base images of a workspace. A registry reference is resolved to a
/// manifest digest once and pinned in a lock file beside the pipeline
/// (kiln-bases.lock.json) until `kiln bases update`, and its blobs are
/// pulled once into a layout in the cache directory, so builds after the
/// first make no network request and digests do not drift. Thread-safe.
class BaseImages {
 public:
  /// `lockFile`: the pin file; `storeDir`: the layout for pulled bases.
  BaseImages(std::filesystem::path lockFile, std::filesystem::path storeDir);

  /// Returns the base named by `text`: "oci:DIR:NAME" (DIR relative to
  /// `repoRoot`) or a registry reference, "http://" first for a registry
  /// reached over plain HTTP. Throws UsageError (a RegistryError) when it
  /// cannot be found, RegistryUnreachableError when the registry cannot be
  /// reached. Not for "scratch".
  ResolvedBase resolve(const std::string& text,
                       const std::filesystem::path& repoRoot);

  /// Resolves every pinned reference again and rewrites the pins; returns
  /// "reference: old -> new" lines for the ones that moved.
  std::vector<std::string> update();

  /// Writes the lock file if a pin was added or changed.
  void save();

 private:
  ResolvedBase resolveRegistry(const std::string& text);
  ResolvedBase pullRegistry(const std::string& text);

  std::filesystem::path lockFile_;
  std::filesystem::path storeDir_;
  std::mutex mutex_;
  std::map<std::string, std::string> pins_;  // reference -> sha256:...
  bool dirty_ = false;
  std::shared_ptr<oci::Layout> store_;
};

/// Splits "http://host:port/repo:tag" into the reference text and whether
/// plain HTTP was asked for.
std::pair<std::string, bool> splitPlainHttp(const std::string& text);

}  // namespace kiln
