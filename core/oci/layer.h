#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/oci/compression.h"
#include "core/oci/descriptor.h"
#include "core/oci/tar_writer.h"
#include "util/sha256.h"

namespace kiln::oci {

/// One file, directory or symlink to put into a layer.
struct LayerEntry {
  /// The path inside the image, relative and '/'-separated, in UTF-8
  /// ("app/dist/main.js"). A leading "/" or "./" and a trailing "/" are
  /// dropped; "." and ".." segments are rejected.
  std::string path;
  EntryType type = EntryType::file;
  /// Permission bits. Setuid, setgid and sticky bits are dropped.
  unsigned mode = 0644;
  unsigned uid = 0;
  unsigned gid = 0;
  /// A file's content comes from this file on disk when it is set...
  std::filesystem::path source;
  /// ...and from these bytes when `source` is empty.
  std::string content;
  /// A symlink's target, stored as given and never followed.
  std::string linkTarget;
};

/// How to write a layer.
struct LayerOptions {
  Compression compression = Compression::gzip;
  /// The mtime of every entry, in seconds since the epoch: kiln passes
  /// SOURCE_DATE_EPOCH, else 0.
  std::int64_t mtime = 0;
};

/// A written layer.
struct LayerResult {
  Digest digest;          // SHA-256 of the compressed bytes: the blob's digest
  Digest diffId;          // SHA-256 of the uncompressed tar stream
  std::int64_t size = 0;  // compressed bytes
  std::int64_t uncompressedSize = 0;
  std::string mediaType;

  /// The descriptor of the layer blob.
  Descriptor descriptor() const;
};

/// Writes `entries` as a canonical layer into the file `output` (replaced
/// if it exists) and returns its digests. Entries are sorted by path,
/// segment by segment, and missing parent directories are added with mode
/// 0755 and owner 0:0. Every entry gets `options.mtime`; there are no atime,
/// ctime, user or group names. So the same entries give the same bytes
/// whatever order they come in and whatever the source files' times and
/// owners are. Throws UsageError for an invalid or duplicate path, and
/// std::runtime_error or std::system_error when a source file cannot be
/// read.
LayerResult writeLayer(std::vector<LayerEntry> entries,
                       const LayerOptions& options,
                       const std::filesystem::path& output);

/// Lists the directories, files and symlinks below `root` as entries under
/// `prefix` in the image ("app" puts root/x at app/x; "" at the image root).
/// Modes come from the disk without setuid, setgid and sticky bits; owners
/// are 0:0 and times are not read. `root` itself gets no entry, so its mode
/// (0700 for a mkdtemp folder, for example) does not leak into the image.
/// Throws std::runtime_error for a socket, FIFO or device below `root`.
std::vector<LayerEntry> scanDirectory(const std::filesystem::path& root,
                                      std::string_view prefix);

/// Writes the directories, files and symlinks below `root` as a layer under
/// `prefix`, with the same bytes as writeLayer(scanDirectory(root, prefix)).
/// The walk runs in canonical order and streams into the compressor, so
/// compression starts before the walk ends and no entry list is built.
/// Throws as scanDirectory and writeLayer do, and removes `output` on
/// failure.
LayerResult writeDirectoryLayer(const std::filesystem::path& root,
                                std::string_view prefix,
                                const LayerOptions& options,
                                const std::filesystem::path& output);

/// Normalizes an image path as writeLayer does; throws UsageError when it
/// is empty or has "." or ".." segments.
std::string normalizeImagePath(std::string_view path);

}  // namespace kiln::oci
