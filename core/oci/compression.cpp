#include "core/oci/compression.h"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <cerrno>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "core/oci/descriptor.h"
#include "util/strings.h"

namespace kiln::oci {

namespace {

constexpr std::size_t kBufferSize = 256 * 1024;

class GzipCompressor : public Compressor {
 public:
  explicit GzipCompressor(ByteSink& out) : out_(out), buffer_(kBufferSize) {
    // windowBits 15 + 16 selects a gzip wrapper; memLevel 8 is zlib's
    // default, as in gzip(1).
    if (deflateInit2(&stream_, kGzipLevel, Z_DEFLATED, 15 + 16, 8,
                     Z_DEFAULT_STRATEGY) != Z_OK) {
      throw std::runtime_error("zlib could not start a gzip stream");
    }
    // Without an explicit header, zlib writes the OS code of the platform
    // it was built for. Pinning it keeps the bytes the same everywhere.
    header_.os = 255;
    header_.time = 0;
    if (deflateSetHeader(&stream_, &header_) != Z_OK) {
      deflateEnd(&stream_);
      throw std::runtime_error("zlib rejected the gzip header");
    }
  }
  ~GzipCompressor() override { deflateEnd(&stream_); }

  void write(const void* data, std::size_t size) override {
    stream_.next_in = static_cast<Bytef*>(const_cast<void*>(data));
    stream_.avail_in = static_cast<uInt>(size);
    while (stream_.avail_in > 0) {
      run(Z_NO_FLUSH);
    }
  }

  void finish() override {
    stream_.next_in = nullptr;
    stream_.avail_in = 0;
    while (run(Z_FINISH) != Z_STREAM_END) {
    }
  }

 private:
  int run(int flush) {
    stream_.next_out = reinterpret_cast<Bytef*>(buffer_.data());
    stream_.avail_out = static_cast<uInt>(buffer_.size());
    int result = deflate(&stream_, flush);
    if (result == Z_STREAM_ERROR) {
      throw std::runtime_error("zlib deflate failed");
    }
    std::size_t produced = buffer_.size() - stream_.avail_out;
    if (produced > 0) {
      out_.write(buffer_.data(), produced);
    }
    return result;
  }

  ByteSink& out_;
  std::vector<char> buffer_;
  z_stream stream_{};
  gz_header header_{};
};

class ZstdCompressor : public Compressor {
 public:
  explicit ZstdCompressor(ByteSink& out)
      : out_(out), buffer_(ZSTD_CStreamOutSize()), context_(ZSTD_createCCtx()) {
    if (context_ == nullptr) {
      throw std::runtime_error("libzstd could not create a context");
    }
    set(ZSTD_c_compressionLevel, kZstdLevel, "compression level");
    set(ZSTD_c_checksumFlag, 1, "checksum flag");
    set(ZSTD_c_nbWorkers, kZstdWorkers, "worker count");
  }
  ~ZstdCompressor() override { ZSTD_freeCCtx(context_); }

  void write(const void* data, std::size_t size) override {
    ZSTD_inBuffer input{data, size, 0};
    while (input.pos < input.size) {
      run(&input, ZSTD_e_continue);
    }
  }

  void finish() override {
    // Only ZSTD_e_continue and ZSTD_e_end are used: an explicit flush would
    // end a block early and change the bytes.
    ZSTD_inBuffer input{nullptr, 0, 0};
    while (run(&input, ZSTD_e_end) != 0) {
    }
  }

 private:
  void set(ZSTD_cParameter parameter, int value, const char* name) {
    std::size_t result = ZSTD_CCtx_setParameter(context_, parameter, value);
    if (ZSTD_isError(result)) {
      throw std::runtime_error(std::string("libzstd rejected the ") + name +
                               " " + std::to_string(value) + ": " +
                               ZSTD_getErrorName(result));
    }
  }

  std::size_t run(ZSTD_inBuffer* input, ZSTD_EndDirective mode) {
    ZSTD_outBuffer output{buffer_.data(), buffer_.size(), 0};
    std::size_t remaining =
        ZSTD_compressStream2(context_, &output, input, mode);
    if (ZSTD_isError(remaining)) {
      throw std::runtime_error(std::string("zstd compression failed: ") +
                               ZSTD_getErrorName(remaining));
    }
    if (output.pos > 0) {
      out_.write(buffer_.data(), output.pos);
    }
    return remaining;
  }

  ByteSink& out_;
  std::vector<char> buffer_;
  ZSTD_CCtx* context_;
};

// Reads a whole file in chunks; `consume` returns nothing and may throw.
void readChunks(const std::filesystem::path& file,
                const std::function<void(const char*, std::size_t)>& consume) {
  int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    throw std::system_error(errno, std::generic_category(),
                            "cannot read " + file.string());
  }
  std::vector<char> buffer(kBufferSize);
  try {
    while (true) {
      ssize_t count = ::read(fd, buffer.data(), buffer.size());
      if (count < 0 && errno == EINTR) {
        continue;
      }
      if (count < 0) {
        throw std::system_error(errno, std::generic_category(),
                                "cannot read " + file.string());
      }
      if (count == 0) {
        break;
      }
      consume(buffer.data(), static_cast<std::size_t>(count));
    }
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);
}

void gunzipFile(const std::filesystem::path& file,
                const std::function<void(const char*, std::size_t)>& consume) {
  z_stream stream{};
  // 15 + 32: accept a gzip or zlib header.
  if (inflateInit2(&stream, 15 + 32) != Z_OK) {
    throw std::runtime_error("zlib could not start inflating");
  }
  std::vector<char> output(kBufferSize);
  bool ended = false;
  try {
    readChunks(file, [&](const char* data, std::size_t size) {
      stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data));
      stream.avail_in = static_cast<uInt>(size);
      while (stream.avail_in > 0) {
        if (ended) {
          // A gzip file may hold several members, as `cat a.gz b.gz` makes.
          inflateReset(&stream);
          ended = false;
        }
        stream.next_out = reinterpret_cast<Bytef*>(output.data());
        stream.avail_out = static_cast<uInt>(output.size());
        int result = inflate(&stream, Z_NO_FLUSH);
        if (result != Z_OK && result != Z_STREAM_END) {
          throw std::runtime_error("corrupt gzip data in " + file.string());
        }
        ended = result == Z_STREAM_END;
        consume(output.data(), output.size() - stream.avail_out);
      }
    });
  } catch (...) {
    inflateEnd(&stream);
    throw;
  }
  inflateEnd(&stream);
  if (!ended) {
    throw std::runtime_error("truncated gzip data in " + file.string());
  }
}

void unzstdFile(const std::filesystem::path& file,
                const std::function<void(const char*, std::size_t)>& consume) {
  ZSTD_DCtx* context = ZSTD_createDCtx();
  if (context == nullptr) {
    throw std::runtime_error("libzstd could not create a context");
  }
  std::vector<char> output(ZSTD_DStreamOutSize());
  std::size_t pending = 1;
  try {
    readChunks(file, [&](const char* data, std::size_t size) {
      ZSTD_inBuffer input{data, size, 0};
      while (input.pos < input.size) {
        ZSTD_outBuffer out{output.data(), output.size(), 0};
        pending = ZSTD_decompressStream(context, &out, &input);
        if (ZSTD_isError(pending)) {
          throw std::runtime_error("corrupt zstd data in " + file.string() +
                                   ": " + ZSTD_getErrorName(pending));
        }
        consume(output.data(), out.pos);
      }
    });
    // Drain output that libzstd held back for lack of room.
    while (pending != 0) {
      ZSTD_inBuffer input{nullptr, 0, 0};
      ZSTD_outBuffer out{output.data(), output.size(), 0};
      pending = ZSTD_decompressStream(context, &out, &input);
      if (ZSTD_isError(pending) || out.pos == 0) {
        throw std::runtime_error("truncated zstd data in " + file.string());
      }
      consume(output.data(), out.pos);
    }
  } catch (...) {
    ZSTD_freeDCtx(context);
    throw;
  }
  ZSTD_freeDCtx(context);
}

}  // namespace

std::string_view layerMediaType(Compression compression) {
  return compression == Compression::zstd ? media::kOciLayerZstd
                                          : media::kOciLayerGzip;
}

namespace {
constexpr std::size_t kChunkSize = 1024 * 1024;
constexpr std::size_t kMaxQueued = 4;
}  // namespace

BackgroundSink::BackgroundSink(ByteSink& consumer) : consumer_(consumer) {
  current_.reserve(kChunkSize);
  thread_ = std::thread([this] { run(); });
}

BackgroundSink::~BackgroundSink() {
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
    queue_.clear();
  }
  changed_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
  }
}

void BackgroundSink::run() {
  while (true) {
    std::vector<char> chunk;
    {
      std::unique_lock lock(mutex_);
      changed_.wait(lock, [this] { return closed_ || !queue_.empty(); });
      if (queue_.empty()) {
        return;  // closed and drained
      }
      chunk = std::move(queue_.front());
      queue_.pop_front();
    }
    changed_.notify_all();
    try {
      consumer_.write(chunk.data(), chunk.size());
    } catch (...) {
      std::lock_guard lock(mutex_);
      error_ = std::current_exception();
      closed_ = true;
      queue_.clear();
      changed_.notify_all();
      return;
    }
    chunk.clear();
    std::lock_guard lock(mutex_);
    spare_.push_back(std::move(chunk));
  }
}

void BackgroundSink::rethrowConsumerError() {
  if (error_) {
    std::rethrow_exception(error_);
  }
}

void BackgroundSink::push(std::vector<char> chunk) {
  {
    std::unique_lock lock(mutex_);
    changed_.wait(lock,
                  [this] { return closed_ || queue_.size() < kMaxQueued; });
    rethrowConsumerError();
    queue_.push_back(std::move(chunk));
  }
  changed_.notify_all();
}

void BackgroundSink::write(const void* data, std::size_t size) {
  const char* bytes = static_cast<const char*>(data);
  while (size > 0) {
    std::size_t room = kChunkSize - current_.size();
    std::size_t take = std::min(room, size);
    current_.insert(current_.end(), bytes, bytes + take);
    bytes += take;
    size -= take;
    if (current_.size() == kChunkSize) {
      std::vector<char> next;
      {
        std::lock_guard lock(mutex_);
        if (!spare_.empty()) {
          next = std::move(spare_.back());
          spare_.pop_back();
        }
      }
      next.reserve(kChunkSize);
      push(std::exchange(current_, std::move(next)));
    }
  }
}

void BackgroundSink::finish() {
  if (!current_.empty()) {
    push(std::move(current_));
    current_.clear();
  }
  {
    std::unique_lock lock(mutex_);
    closed_ = true;
    changed_.notify_all();
    changed_.wait(lock, [this] { return queue_.empty(); });
  }
  thread_.join();
  rethrowConsumerError();
}

FileSink::FileSink(const std::filesystem::path& path) : path_(path) {
  fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) {
    throw std::system_error(errno, std::generic_category(),
                            "cannot create " + path.string());
  }
}

FileSink::~FileSink() {
  if (fd_ >= 0) {
    ::close(fd_);
  }
}

void FileSink::write(const void* data, std::size_t size) {
  const char* bytes = static_cast<const char*>(data);
  while (size > 0) {
    ssize_t count = ::write(fd_, bytes, size);
    if (count < 0 && errno == EINTR) {
      continue;
    }
    if (count < 0) {
      throw std::system_error(errno, std::generic_category(),
                              "cannot write " + path_.string());
    }
    bytes += count;
    size -= static_cast<std::size_t>(count);
  }
}

void FileSink::close() {
  int fd = std::exchange(fd_, -1);
  if (::fsync(fd) != 0) {
    int error = errno;
    ::close(fd);
    throw std::system_error(error, std::generic_category(),
                            "cannot write " + path_.string());
  }
  if (::close(fd) != 0) {
    throw std::system_error(errno, std::generic_category(),
                            "cannot write " + path_.string());
  }
}

void HashingSink::write(const void* data, std::size_t size) {
  hasher_.update(data, size);
  bytes_ += size;
  if (next_ != nullptr) {
    next_->write(data, size);
  }
}

std::unique_ptr<Compressor> makeCompressor(Compression compression,
                                           ByteSink& out) {
  if (compression == Compression::zstd) {
    return std::make_unique<ZstdCompressor>(out);
  }
  return std::make_unique<GzipCompressor>(out);
}

void decompressLayer(
    const std::filesystem::path& file, std::string_view mediaType,
    const std::function<void(const char*, std::size_t)>& consume) {
  if (endsWith(mediaType, "+gzip") || endsWith(mediaType, ".tar.gzip")) {
    gunzipFile(file, consume);
  } else if (endsWith(mediaType, "+zstd")) {
    unzstdFile(file, consume);
  } else if (endsWith(mediaType, ".tar")) {
    readChunks(file, consume);
  } else {
    throw std::runtime_error("unsupported layer media type '" +
                             std::string(mediaType) + "' for " + file.string());
  }
}

}  // namespace kiln::oci
