#pragma once

#include <filesystem>
#include <memory>
#include <string_view>

#include "core/oci/compression.h"
#include "core/oci/layer.h"
#include "core/oci/tar_writer.h"

namespace kiln::oci {

/// The pipeline behind writeLayer and writeDirectoryLayer: tar writer, hash
/// of the tar, compressor on a background thread, hash of the compressed
/// bytes, output file. Entries must arrive in canonical order. Internal to
/// kiln_oci.
class LayerStream {
 public:
  LayerStream(const LayerOptions& options, const std::filesystem::path& output);

  /// Writes a normalized entry; a file's content comes from `source` or
  /// `content`.
  void write(const LayerEntry& entry);

  /// Writes a file entry whose content is read from an open descriptor.
  void writeFile(const LayerEntry& entry, int fd);

  /// Ends the tar stream and the compression, flushes the file and returns
  /// the digests. Call it once, last.
  LayerResult finish();

 private:
  TarHeader header(const LayerEntry& entry) const;

  LayerOptions options_;
  FileSink file_;
  HashingSink compressed_;
  std::unique_ptr<Compressor> compressor_;
  BackgroundSink background_;
  HashingSink uncompressed_;
  TarWriter tar_;
};

/// Returns true if `text` is valid UTF-8.
bool isValidUtf8(std::string_view text);

}  // namespace kiln::oci
