#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/oci/blob_sink.h"
#include "core/oci/descriptor.h"

namespace kiln::oci {

/// An image read from a layout, with every digest checked but the layers'.
struct StoredImage {
  Descriptor manifestDescriptor;  // of the image manifest, not of an index
  std::string manifest;
  Descriptor configDescriptor;
  std::string config;
  std::vector<Descriptor> layers;
};

/// An OCI image layout directory (image-spec v1.0): the `oci-layout` file,
/// `index.json` and `blobs/sha256/<hex>`. Blobs are written to a temporary
/// file and renamed into place, once, however many images share them.
/// Images are named by the `org.opencontainers.image.ref.name` annotation of
/// their index.json entry, so skopeo and umoci find them as `oci:DIR:NAME`.
/// Updates of index.json take an flock(2) on the directory, so processes
/// that add images at the same time do not lose each other's entries.
class Layout : public BlobSink {
 public:
  /// Opens the layout in `dir`, first creating it (oci-layout, an empty
  /// index.json, blobs/sha256) when `dir` is missing or empty. Throws
  /// UsageError when `dir` has other content.
  static Layout create(const std::filesystem::path& dir);

  /// Opens an existing layout; throws UsageError when `dir` is not one.
  static Layout open(const std::filesystem::path& dir);

  const std::filesystem::path& dir() const { return dir_; }

  /// The file of a blob, blobs/sha256/<hex>, whether or not it exists.
  std::filesystem::path blobPath(const Digest& digest) const;

  /// Returns true if the blob's file exists; its content is not checked.
  bool hasBlob(const Digest& digest) const override;

  /// Stores bytes as a blob unless it is present; returns its digest.
  Digest putBlob(std::string_view bytes);

  /// Stores a file's content as the blob `digest`. With `move`, the file is
  /// renamed into place (or removed when the blob is present). Throws
  /// DigestMismatchError, leaving the layout unchanged, if the content does
  /// not hash to `digest`.
  void putBlobFile(const std::filesystem::path& file, const Digest& digest,
                   bool move);

  /// A path for a temporary file on the layout's file system, so that a
  /// layer written there can be moved in with putBlobFile without a copy.
  std::filesystem::path temporaryPath() const;

  /// Reads a blob; throws DigestMismatchError if its bytes do not match the
  /// digest, and std::runtime_error if it is missing.
  std::string readBlob(const Digest& digest) const;

  /// Hashes a stored blob; throws as readBlob does.
  void verifyBlob(const Digest& digest) const;

  /// Copies a blob from another layout unless present, checking its digest.
  void copyBlobFrom(const Layout& source, const Digest& digest);

  /// Copies the config and layers of an image read from another layout, so
  /// that an image built on it is complete in this layout.
  void copyImageBlobsFrom(const Layout& source, const StoredImage& image);

  std::unique_ptr<BlobWriter> openBlob(const Descriptor& descriptor) override;

  /// Points `name` at a manifest or index that is stored in the layout,
  /// replacing the entry that had that name. Entries are kept sorted by
  /// name. Throws UsageError for a name that the OCI image specification's
  /// ref.name grammar rejects.
  void setImage(std::string_view name, const Descriptor& manifest);

  /// The index.json entry named `name`, if there is one.
  std::optional<Descriptor> findImage(std::string_view name) const;

  /// The names of all named images, sorted.
  std::vector<std::string> imageNames() const;

  /// Reads image `name`, resolving an index to its linux/amd64 manifest.
  /// Throws UsageError if the name is unknown (the hint lists the names)
  /// and DigestMismatchError if the manifest or config is damaged.
  StoredImage readImage(std::string_view name) const;

  /// Reads the image manifest or index `descriptor` points at, resolving an
  /// index to linux/amd64 as readImage does.
  StoredImage readImage(const Descriptor& descriptor) const;

 private:
  explicit Layout(std::filesystem::path dir) : dir_(std::move(dir)) {}
  std::vector<Descriptor> readIndex() const;

  std::filesystem::path dir_;
};

/// An image in a local layout, written `oci:DIR:NAME` as skopeo and podman
/// write it.
struct LayoutReference {
  std::filesystem::path dir;
  std::string name;

  /// Parses `oci:DIR:NAME`, splitting at the first ':' after "oci:" as
  /// skopeo does, so DIR cannot contain ':'. Throws UsageError when the
  /// prefix or the name is missing.
  static LayoutReference parse(std::string_view text);

  /// Returns true for text that starts with "oci:".
  static bool matches(std::string_view text);
};

/// Checks a name against the OCI image specification's grammar for the
/// ref.name annotation; throws UsageError if it does not match.
void validateImageName(std::string_view name);

}  // namespace kiln::oci
