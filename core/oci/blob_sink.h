#pragma once

#include <cstddef>
#include <memory>

#include "core/oci/descriptor.h"

namespace kiln::oci {

/// Receives the bytes of one blob. Destroying it without commit() discards
/// what was written.
class BlobWriter {
 public:
  virtual ~BlobWriter() = default;
  virtual void write(const char* data, std::size_t size) = 0;
  /// Stores the blob. Throws DigestMismatchError if the bytes written do not
  /// match the descriptor the writer was opened for.
  virtual void commit() = 0;
};

/// A content-addressed store that a pull writes blobs into, such as an OCI
/// image layout or kiln's CAS.
class BlobSink {
 public:
  virtual ~BlobSink() = default;
  /// Returns true if the store already has the blob, so that a pull can
  /// skip its download.
  virtual bool hasBlob(const Digest& digest) const = 0;
  /// Starts writing a blob that must match `descriptor`.
  virtual std::unique_ptr<BlobWriter> openBlob(
      const Descriptor& descriptor) = 0;
};

}  // namespace kiln::oci
