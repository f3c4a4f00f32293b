#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "cache/remote/action_result.h"
#include "util/sha256.h"

namespace kiln {

/// An Ed25519 public key that verifies action entry signatures. Holding
/// only this key, a reader cannot produce a valid signature.
class VerifyingKey {
 public:
  /// Loads a PEM "PUBLIC KEY" (SubjectPublicKeyInfo) file. Throws
  /// UsageError if the file is missing, unreadable or contains no Ed25519
  /// public key.
  static VerifyingKey loadPem(const std::filesystem::path& path);

  /// Writes the key as a PEM "PUBLIC KEY" file, mode 0644, atomically.
  void writePem(const std::filesystem::path& path) const;

  /// Returns true only if `signature` is a valid Ed25519 signature of
  /// `message` by this key's private half.
  bool verify(std::string_view message, std::string_view signature) const;

  /// The first 16 hexadecimal characters of the SHA-256 of the raw 32-byte
  /// public key, which names a key in messages.
  std::string fingerprint() const;

 private:
  friend class SigningKey;
  explicit VerifyingKey(std::shared_ptr<void> key) : key_(std::move(key)) {}

  std::shared_ptr<void> key_;  // an EVP_PKEY
};

/// An Ed25519 private key that signs action entries.
class SigningKey {
 public:
  /// Creates a new random key with OpenSSL's generator.
  static SigningKey generate();

  /// Loads a PEM "PRIVATE KEY" (unencrypted PKCS#8) file. Throws UsageError
  /// if the file is missing, unreadable or contains no Ed25519 private
  /// key,
  /// for example a public key file.
  static SigningKey loadPem(const std::filesystem::path& path);

  /// Writes the key as a PEM "PRIVATE KEY" file, mode 0600, atomically.
  void writePem(const std::filesystem::path& path) const;

  /// Signs `message` and returns the 64-byte Ed25519 signature.
  std::string sign(std::string_view message) const;

  /// The public half, for verification.
  VerifyingKey verifyingKey() const;

 private:
  explicit SigningKey(std::shared_ptr<void> key) : key_(std::move(key)) {}

  std::shared_ptr<void> key_;  // an EVP_PKEY
};

/// Generates a key pair and writes the private key to `privatePath` (mode
/// 0600) and the public key to `publicPath` (mode 0644). Throws
/// std::system_error if a file cannot be written.
void generateSigningKeyPair(const std::filesystem::path& privatePath,
                            const std::filesystem::path& publicPath);

/// The bytes that an action entry's signature covers: a fixed context
/// string, the action key, the manifest digest and the manifest size. The
/// action key is part of it, so an entry copied under another key fails
/// verification.
std::string actionSigningMessage(const Digest& actionKey,
                                 const RemoteActionEntry& entry);

/// Signs the entry for `actionKey` and returns the signature to store in
/// entry.signature.
std::string signActionEntry(const SigningKey& key, const Digest& actionKey,
                            const RemoteActionEntry& entry);

/// Returns true only if entry.signature is `key`'s signature over this
/// action key and manifest. Unsigned entries, entries signed by another
/// key and entries whose key or manifest changed return false.
bool verifyActionEntry(const VerifyingKey& key, const Digest& actionKey,
                       const RemoteActionEntry& entry);

}  // namespace kiln
