#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string_view>
#include <thread>
#include <vector>

#include "util/sha256.h"

namespace kiln::oci {

/// The compression of a layer. gzip is the default because every runtime
/// and registry reads it. zstd is smaller and faster, but it needs newer
/// readers such as containerd 1.5+ or podman, and umoci 0.4.7 cannot unpack
/// it.
enum class Compression { gzip, zstd };

/// zlib deflate level for gzip layers, the same as `gzip -6`.
inline constexpr int kGzipLevel = 6;
/// libzstd level for zstd layers, the same as `zstd -3`.
inline constexpr int kZstdLevel = 3;
/// libzstd worker threads: 0 is libzstd's single-threaded mode. writeLayer
/// runs the compressor (gzip or zstd) on one background thread of its own
/// while the calling thread reads files and builds the tar stream, like
/// `tar | zstd -T1`. Streaming output with 0 workers differs from output
/// with 1 or more, so the count is pinned.
inline constexpr int kZstdWorkers = 0;

/// The layer media type for a compression.
std::string_view layerMediaType(Compression compression);

/// A consumer of a byte stream.
class ByteSink {
 public:
  virtual ~ByteSink() = default;
  virtual void write(const void* data, std::size_t size) = 0;
};

/// Writes a stream to a file, created or truncated with mode 0644.
class FileSink : public ByteSink {
 public:
  explicit FileSink(const std::filesystem::path& path);
  ~FileSink() override;
  FileSink(const FileSink&) = delete;
  FileSink& operator=(const FileSink&) = delete;

  void write(const void* data, std::size_t size) override;

  /// Flushes to disk with fsync and closes; throws std::system_error.
  void close();

 private:
  std::filesystem::path path_;
  int fd_ = -1;
};

/// Passes bytes on to another sink while hashing and counting them.
class HashingSink : public ByteSink {
 public:
  explicit HashingSink(ByteSink* next) : next_(next) {}
  void write(const void* data, std::size_t size) override;
  Digest finish() { return hasher_.finish(); }
  std::uint64_t bytes() const { return bytes_; }

 private:
  ByteSink* next_;  // may be null: hash only
  Sha256 hasher_;
  std::uint64_t bytes_ = 0;
};

/// Compresses a stream into another sink with pinned settings, so equal
/// input gives equal output with the same zlib or libzstd version. gzip
/// headers carry no file name, mtime 0 and OS 255 ("unknown").
class Compressor : public ByteSink {
 public:
  /// Flushes the rest of the compressed stream; call it once, last.
  virtual void finish() = 0;
};

/// Passes a stream to another sink on a background thread, in chunks of a
/// fixed size, so that the producer and the consumer (a compressor) run at
/// the same time. The chunk boundaries depend only on the byte count, so
/// the consumer gets the same calls for the same stream. An exception from
/// the consumer is rethrown by the next write() or by finish().
class BackgroundSink : public ByteSink {
 public:
  explicit BackgroundSink(ByteSink& consumer);
  /// Stops the thread; the consumer may have missed data unless finish()
  /// was called.
  ~BackgroundSink() override;
  BackgroundSink(const BackgroundSink&) = delete;
  BackgroundSink& operator=(const BackgroundSink&) = delete;

  void write(const void* data, std::size_t size) override;

  /// Hands over the last chunk and waits until the consumer has it all.
  void finish();

 private:
  void run();
  void push(std::vector<char> chunk);
  void rethrowConsumerError();

  ByteSink& consumer_;
  std::vector<char> current_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<std::vector<char>> queue_;
  std::vector<std::vector<char>> spare_;
  bool closed_ = false;
  std::exception_ptr error_;
  std::thread thread_;
};

/// Creates the compressor for `compression`, writing into `out`. Throws
/// std::runtime_error if the library rejects the pinned settings (a libzstd
/// built without threads, for example).
std::unique_ptr<Compressor> makeCompressor(Compression compression,
                                           ByteSink& out);

/// Reads a layer blob and passes its uncompressed bytes to `consume`. The
/// layer's media type selects gzip, zstd or no decompression; throws
/// std::runtime_error for other media types or a corrupt stream.
void decompressLayer(
    const std::filesystem::path& file, std::string_view mediaType,
    const std::function<void(const char* data, std::size_t size)>& consume);

}  // namespace kiln::oci
