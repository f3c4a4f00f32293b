#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "util/sha256.h"

namespace kiln {

/// zstd level of CAS blobs: level 3 is zstd's default, a good balance of
/// speed and ratio for build outputs.
constexpr int kBlobCompressionLevel = 3;

/// Compresses everything readable from `in` into one zstd frame written to
/// `out`, hashing the uncompressed bytes on the way. Returns the digest and
/// sets `*size` to the uncompressed size. Throws std::system_error on I/O
/// errors and std::runtime_error on compressor errors.
Digest compressFile(int in, int out, std::uint64_t* size);

/// Compresses bytes into one zstd frame.
std::string compressBytes(std::string_view data);

/// Decompresses the zstd stream from `in` to `out` (out may be -1 to
/// discard) and returns the digest of the decompressed bytes, which the
/// caller compares with the expected one. Sets `*size`. Returns false if
/// the stream is not valid zstd or is truncated.
bool decompressFile(int in, int out, Digest* digest, std::uint64_t* size);

/// Decompresses a whole zstd stream held in memory; false if invalid.
bool decompressBytes(std::string_view compressed, std::string* data);

}  // namespace kiln
