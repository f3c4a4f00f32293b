#include "util/sha256.h"

#include <fcntl.h>
// The low-level SHA-256 functions run the same assembly as the EVP interface
// (with the CPU's SHA extensions where present) but skip loading OpenSSL's
// configuration and providers, which cost about 1 ms at every start.
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <openssl/sha.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <system_error>

namespace kiln {

std::string Digest::hex() const {
  static const char kDigits[] = "0123456789abcdef";
  std::string text(64, '0');
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    text[2 * i] = kDigits[bytes[i] >> 4];
    text[2 * i + 1] = kDigits[bytes[i] & 0xf];
  }
  return text;
}

static int hexValue(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

bool Digest::parse(std::string_view hex, Digest* out) {
  if (hex.size() != 64) {
    return false;
  }
  for (std::size_t i = 0; i < 32; ++i) {
    int high = hexValue(hex[2 * i]);
    int low = hexValue(hex[2 * i + 1]);
    if (high < 0 || low < 0) {
      return false;
    }
    out->bytes[i] = static_cast<std::uint8_t>(high * 16 + low);
  }
  return true;
}

Sha256::Sha256() : context_(new SHA256_CTX) {
  SHA256_Init(static_cast<SHA256_CTX*>(context_));
}

Sha256::~Sha256() { delete static_cast<SHA256_CTX*>(context_); }

void Sha256::update(const void* data, std::size_t size) {
  SHA256_Update(static_cast<SHA256_CTX*>(context_), data, size);
}

Digest Sha256::finish() {
  Digest digest;
  SHA256_Final(digest.bytes.data(), static_cast<SHA256_CTX*>(context_));
  return digest;
}

Digest sha256(std::string_view data) {
  Sha256 hasher;
  hasher.update(data);
  return hasher.finish();
}

Digest sha256File(const std::filesystem::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    throw std::system_error(errno, std::generic_category(),
                            "cannot read " + path.string());
  }
  Sha256 hasher;
  // One buffer per thread: a fresh 256 KiB allocation per file would be an
  // mmap and munmap, which serialize the threads of a process on its
  // memory map lock.
  constexpr std::size_t kChunk = 256 * 1024;
  thread_local std::unique_ptr<char[]> buffer(new char[kChunk]);
  while (true) {
    ssize_t count = ::read(fd, buffer.get(), kChunk);
    if (count < 0) {
      if (errno == EINTR) {
        continue;
      }
      int error = errno;
      ::close(fd);
      throw std::system_error(error, std::generic_category(),
                              "cannot read " + path.string());
    }
    if (count == 0) {
      break;
    }
    hasher.update(buffer.get(), static_cast<std::size_t>(count));
  }
  ::close(fd);
  return hasher.finish();
}

}  // namespace kiln
