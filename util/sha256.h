#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace kiln {

/// A SHA-256 digest.
struct Digest {
  std::array<std::uint8_t, 32> bytes{};

  /// Lower-case hexadecimal, 64 characters.
  std::string hex() const;
  bool operator==(const Digest&) const = default;
  auto operator<=>(const Digest&) const = default;

  /// Parses 64 hexadecimal characters; returns false on anything else.
  static bool parse(std::string_view hex, Digest* out);
};

/// Incremental SHA-256 over OpenSSL's SHA256_* functions, which use the
/// CPU's SHA extensions where present.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void update(const void* data, std::size_t size);
  void update(std::string_view text) { update(text.data(), text.size()); }
  Digest finish();

 private:
  void* context_;
};

Digest sha256(std::string_view data);

/// Hashes a file's content; throws std::system_error if it cannot be read.
Digest sha256File(const std::filesystem::path& path);

}  // namespace kiln
