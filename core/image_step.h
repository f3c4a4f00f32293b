#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "cache/local_store.h"
#include "core/base_images.h"
#include "core/build_record.h"
#include "core/oci/compression.h"
#include "core/oci/layout.h"
#include "core/scheduler.h"
#include "core/stat_cache.h"
#include "core/step.h"

namespace kiln {

/// Assembles the images of image steps into one OCI image layout. Each
/// layer is keyed by the digest of its source files, its place in the image,
/// its owner, compression and timestamp; the compressed layer and its
/// digests are kept in the cache under that key, so an unchanged layer is
/// never compressed again, and layers with the same content (the production
/// node_modules of one lockfile) are one blob. Thread-safe.
class ImageBuilder {
 public:
  /// `layoutDir`: the output layout; `mtime`: the time of every layer entry
  /// and of the image config (SOURCE_DATE_EPOCH, else 0). `store` may be
  /// null when the cache is off.
  ImageBuilder(std::filesystem::path layoutDir, std::int64_t mtime,
               BaseImages& bases, LocalStore* store, StatCache& statCache,
               BuildRecord& record);

  /// Manifest digests of layer sources that a dependency of the image step
  /// produced as its only output, by absolute path: the dependency's output
  /// digest, already checked in this build.
  using KnownSources = std::map<std::string, std::string>;

  /// Builds one image step, or finds it up to date. With `known`, an image
  /// whose sources are all known is found up to date without walking them.
  StepOutcome build(const Step& step, bool forced,
                    const KnownSources& known = {});

  const std::filesystem::path& layoutDir() const { return layoutDir_; }

 private:
  struct LayerPlan;
  oci::Layout& layout();
  LayerPlan planLayer(const Step& step, const ImageLayerSpec& spec,
                      oci::Compression compression, const KnownSources& known);
  /// The manifest digest of a layer source, computed once per build, so
  /// images that share a layer (the production node_modules of one
  /// lockfile) walk its files once.
  std::string sourceDigest(const Step& step, const std::string& source);
  oci::ImageLayer produceLayer(const LayerPlan& plan);

  std::filesystem::path layoutDir_;
  std::int64_t mtime_;
  BaseImages& bases_;
  LocalStore* store_;
  StatCache& statCache_;
  BuildRecord& record_;
  std::mutex layoutMutex_;
  std::mutex digestsMutex_;
  std::map<std::string, std::string> sourceDigests_;  // absolute path
  std::unique_ptr<oci::Layout> layout_;
};

/// The layer and image timestamp: SOURCE_DATE_EPOCH if set, else 0.
std::int64_t sourceDateEpoch();

}  // namespace kiln
