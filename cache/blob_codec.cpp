#include "cache/blob_codec.h"

#include <unistd.h>
#include <zstd.h>

#include <cerrno>
#include <memory>
#include <stdexcept>
#include <system_error>

namespace kiln {

namespace {

struct CompressDeleter {
  void operator()(ZSTD_CCtx* context) const { ZSTD_freeCCtx(context); }
};
struct DecompressDeleter {
  void operator()(ZSTD_DCtx* context) const { ZSTD_freeDCtx(context); }
};

ssize_t readSome(int fd, void* buffer, std::size_t size) {
  while (true) {
    ssize_t count = ::read(fd, buffer, size);
    if (count >= 0 || errno != EINTR) {
      return count;
    }
  }
}

void writeAll(int fd, const void* data, std::size_t size) {
  const char* bytes = static_cast<const char*>(data);
  while (size > 0) {
    ssize_t count = ::write(fd, bytes, size);
    if (count < 0) {
      if (errno == EINTR) {
        continue;
      }
      throw std::system_error(errno, std::generic_category(),
                              "cannot write a cache blob");
    }
    bytes += count;
    size -= static_cast<std::size_t>(count);
  }
}

// Compression state and buffers are kept per thread and reused: allocating
// them per blob would mmap and munmap megabytes each time, which serializes
// the threads of a process on its memory map lock.
struct CompressState {
  std::unique_ptr<ZSTD_CCtx, CompressDeleter> context{ZSTD_createCCtx()};
  std::size_t inSize = ZSTD_CStreamInSize();
  std::size_t outSize = ZSTD_CStreamOutSize();
  std::unique_ptr<char[]> in{new char[inSize]};
  std::unique_ptr<char[]> out{new char[outSize]};
};

struct DecompressState {
  std::unique_ptr<ZSTD_DCtx, DecompressDeleter> context{ZSTD_createDCtx()};
  std::size_t inSize = ZSTD_DStreamInSize();
  std::size_t outSize = ZSTD_DStreamOutSize();
  std::unique_ptr<char[]> in{new char[inSize]};
  std::unique_ptr<char[]> out{new char[outSize]};
};

CompressState& compressState() {
  thread_local CompressState state;
  ZSTD_CCtx_reset(state.context.get(), ZSTD_reset_session_and_parameters);
  ZSTD_CCtx_setParameter(state.context.get(), ZSTD_c_compressionLevel,
                         kBlobCompressionLevel);
  ZSTD_CCtx_setParameter(state.context.get(), ZSTD_c_checksumFlag, 1);
  return state;
}

DecompressState& decompressState() {
  thread_local DecompressState state;
  ZSTD_DCtx_reset(state.context.get(), ZSTD_reset_session_and_parameters);
  return state;
}

}  // namespace

Digest compressFile(int in, int out, std::uint64_t* size) {
  CompressState& state = compressState();
  ZSTD_CCtx* context = state.context.get();
  std::size_t inSize = state.inSize;
  std::size_t outSize = state.outSize;
  char* inBuffer = state.in.get();
  char* outBuffer = state.out.get();
  Sha256 hasher;
  *size = 0;
  while (true) {
    ssize_t count = readSome(in, inBuffer, inSize);
    if (count < 0) {
      throw std::system_error(errno, std::generic_category(),
                              "cannot read a file to cache");
    }
    hasher.update(inBuffer, static_cast<std::size_t>(count));
    *size += static_cast<std::uint64_t>(count);
    bool last = count == 0;
    ZSTD_EndDirective mode = last ? ZSTD_e_end : ZSTD_e_continue;
    ZSTD_inBuffer input{inBuffer, static_cast<std::size_t>(count), 0};
    bool finished = false;
    while (!finished) {
      ZSTD_outBuffer output{outBuffer, outSize, 0};
      std::size_t remaining =
          ZSTD_compressStream2(context, &output, &input, mode);
      if (ZSTD_isError(remaining)) {
        throw std::runtime_error(std::string("zstd compression failed: ") +
                                 ZSTD_getErrorName(remaining));
      }
      writeAll(out, outBuffer, output.pos);
      finished = last ? remaining == 0 : input.pos == input.size;
    }
    if (last) {
      break;
    }
  }
  return hasher.finish();
}

std::string compressBytes(std::string_view data) {
  std::string compressed(ZSTD_compressBound(data.size()), '\0');
  std::unique_ptr<ZSTD_CCtx, CompressDeleter> context(ZSTD_createCCtx());
  ZSTD_CCtx_setParameter(context.get(), ZSTD_c_compressionLevel,
                         kBlobCompressionLevel);
  ZSTD_CCtx_setParameter(context.get(), ZSTD_c_checksumFlag, 1);
  std::size_t size =
      ZSTD_compress2(context.get(), compressed.data(), compressed.size(),
                     data.data(), data.size());
  if (ZSTD_isError(size)) {
    throw std::runtime_error(std::string("zstd compression failed: ") +
                             ZSTD_getErrorName(size));
  }
  compressed.resize(size);
  return compressed;
}

bool decompressFile(int in, int out, Digest* digest, std::uint64_t* size) {
  DecompressState& state = decompressState();
  ZSTD_DCtx* context = state.context.get();
  std::size_t inSize = state.inSize;
  std::size_t outSize = state.outSize;
  char* inBuffer = state.in.get();
  char* outBuffer = state.out.get();
  Sha256 hasher;
  *size = 0;
  std::size_t lastResult = 1;  // nonzero: a frame is incomplete
  bool sawInput = false;
  while (true) {
    ssize_t count = readSome(in, inBuffer, inSize);
    if (count < 0) {
      return false;
    }
    if (count == 0) {
      break;
    }
    sawInput = true;
    ZSTD_inBuffer input{inBuffer, static_cast<std::size_t>(count), 0};
    while (input.pos < input.size) {
      ZSTD_outBuffer output{outBuffer, outSize, 0};
      lastResult = ZSTD_decompressStream(context, &output, &input);
      if (ZSTD_isError(lastResult)) {
        return false;
      }
      hasher.update(outBuffer, output.pos);
      *size += output.pos;
      if (out >= 0) {
        writeAll(out, outBuffer, output.pos);
      }
    }
  }
  // Flush what the decoder still holds for a frame whose input is complete.
  while (sawInput && lastResult != 0) {
    ZSTD_inBuffer input{nullptr, 0, 0};
    ZSTD_outBuffer output{outBuffer, outSize, 0};
    lastResult = ZSTD_decompressStream(context, &output, &input);
    if (ZSTD_isError(lastResult) || output.pos == 0) {
      break;
    }
    hasher.update(outBuffer, output.pos);
    *size += output.pos;
    if (out >= 0) {
      writeAll(out, outBuffer, output.pos);
    }
  }
  if (!sawInput || lastResult != 0) {
    return false;
  }
  *digest = hasher.finish();
  return true;
}

bool decompressBytes(std::string_view compressed, std::string* data) {
  ZSTD_DCtx* context = decompressState().context.get();
  data->clear();
  std::string buffer(ZSTD_DStreamOutSize(), '\0');
  ZSTD_inBuffer input{compressed.data(), compressed.size(), 0};
  std::size_t result = 1;
  while (input.pos < input.size || result != 0) {
    ZSTD_outBuffer output{buffer.data(), buffer.size(), 0};
    result = ZSTD_decompressStream(context, &output, &input);
    if (ZSTD_isError(result)) {
      return false;
    }
    data->append(buffer.data(), output.pos);
    if (input.pos == input.size && output.pos == 0 && result != 0) {
      return false;  // truncated
    }
  }
  return !compressed.empty();
}

}  // namespace kiln
