#include "cache/remote/signature.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <stdexcept>

#include "util/atomic_file.h"
#include "util/error.h"

namespace kiln {

namespace {

// Domain separation: these bytes start every signed message, so a kiln
// action signature cannot be mistaken for a signature over other data
// made with the same key.
constexpr std::string_view kSigningContext = "kiln remote action entry v1\n";

constexpr std::size_t kEd25519SignatureSize = 64;

std::shared_ptr<void> ownKey(EVP_PKEY* key) {
  return std::shared_ptr<void>(key, [](void* pointer) {
    EVP_PKEY_free(static_cast<EVP_PKEY*>(pointer));
  });
}

EVP_PKEY* rawKey(const std::shared_ptr<void>& key) {
  return static_cast<EVP_PKEY*>(key.get());
}

using BioPointer = std::unique_ptr<BIO, decltype(&BIO_free)>;
using MdContextPointer =
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)>;

std::string bioContents(BIO* bio) {
  char* data = nullptr;
  long size = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(size));
}

// Returns no passphrase, so an encrypted key fails to load. OpenSSL's
// default callback would prompt on the terminal, which a build must not do.
int noPassphrase(char*, int, int, void*) {
  return 0;
}

// Reads a PEM file into an OpenSSL key with `read` (PEM_read_bio_PUBKEY or
// PEM_read_bio_PrivateKey), requiring an Ed25519 key.
template <typename Reader>
EVP_PKEY* readPemKey(const std::filesystem::path& path, Reader read,
                     std::string_view kind, std::string_view hint) {
  std::string text;
  if (!tryReadFile(path, &text)) {
    throw UsageError(
        "cannot read the " + std::string(kind) + " file " + path.string(),
        "check the path and its permissions");
  }
  BioPointer bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())),
                 &BIO_free);
  EVP_PKEY* key =
      bio ? read(bio.get(), nullptr, noPassphrase, nullptr) : nullptr;
  if (key == nullptr || EVP_PKEY_get_id(key) != EVP_PKEY_ED25519) {
    EVP_PKEY_free(key);
    ERR_clear_error();
    throw UsageError(
        path.string() + " does not contain an Ed25519 " + std::string(kind),
        std::string(hint));
  }
  return key;
}

void appendBigEndian64(std::string* out, std::uint64_t value) {
  for (int shift = 56; shift >= 0; shift -= 8) {
    out->push_back(static_cast<char>((value >> shift) & 0xff));
  }
}

}  // namespace

VerifyingKey VerifyingKey::loadPem(const std::filesystem::path& path) {
  return VerifyingKey(ownKey(
      readPemKey(path, PEM_read_bio_PUBKEY, "public key",
                 "expected a PEM public key (BEGIN PUBLIC KEY), as written by "
                 "'openssl pkey -in KEY -pubout'")));
}

void VerifyingKey::writePem(const std::filesystem::path& path) const {
  BioPointer bio(BIO_new(BIO_s_mem()), &BIO_free);
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), rawKey(key_)) != 1) {
    throw std::runtime_error("OpenSSL could not encode the public key");
  }
  writeFileAtomic(path, bioContents(bio.get()), 0644);
}

bool VerifyingKey::verify(std::string_view message,
                          std::string_view signature) const {
  if (signature.size() != kEd25519SignatureSize) {
    return false;
  }
  MdContextPointer context(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  // Ed25519 hashes internally, so no digest is named.
  if (!context || EVP_DigestVerifyInit(context.get(), nullptr, nullptr, nullptr,
                                       rawKey(key_)) != 1) {
    return false;
  }
  return EVP_DigestVerify(
             context.get(),
             reinterpret_cast<const unsigned char*>(signature.data()),
             signature.size(),
             reinterpret_cast<const unsigned char*>(message.data()),
             message.size()) == 1;
}

std::string VerifyingKey::fingerprint() const {
  unsigned char raw[32];
  std::size_t size = sizeof raw;
  if (EVP_PKEY_get_raw_public_key(rawKey(key_), raw, &size) != 1) {
    throw std::runtime_error("OpenSSL could not export the public key");
  }
  return sha256(std::string_view(reinterpret_cast<const char*>(raw), size))
      .hex()
      .substr(0, 16);
}

SigningKey SigningKey::generate() {
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  if (key == nullptr) {
    throw std::runtime_error("OpenSSL could not generate an Ed25519 key");
  }
  return SigningKey(ownKey(key));
}

SigningKey SigningKey::loadPem(const std::filesystem::path& path) {
  return SigningKey(ownKey(readPemKey(
      path, PEM_read_bio_PrivateKey, "private key",
      "expected an unencrypted PEM private key (BEGIN PRIVATE KEY), as "
      "written by 'openssl genpkey -algorithm ed25519'")));
}

void SigningKey::writePem(const std::filesystem::path& path) const {
  BioPointer bio(BIO_new(BIO_s_mem()), &BIO_free);
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), rawKey(key_), nullptr,
                                       nullptr, 0, nullptr, nullptr) != 1) {
    throw std::runtime_error("OpenSSL could not encode the private key");
  }
  writeFileAtomic(path, bioContents(bio.get()), 0600);
}

std::string SigningKey::sign(std::string_view message) const {
  MdContextPointer context(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  std::string signature(kEd25519SignatureSize, '\0');
  std::size_t size = signature.size();
  if (!context ||
      EVP_DigestSignInit(context.get(), nullptr, nullptr, nullptr,
                         rawKey(key_)) != 1 ||
      EVP_DigestSign(context.get(),
                     reinterpret_cast<unsigned char*>(signature.data()), &size,
                     reinterpret_cast<const unsigned char*>(message.data()),
                     message.size()) != 1) {
    throw std::runtime_error("OpenSSL could not sign with the Ed25519 key");
  }
  signature.resize(size);
  return signature;
}

VerifyingKey SigningKey::verifyingKey() const {
  // Round-trip through the raw public key so that the verifying key
  // contains no private key material.
  unsigned char raw[32];
  std::size_t size = sizeof raw;
  if (EVP_PKEY_get_raw_public_key(rawKey(key_), raw, &size) != 1) {
    throw std::runtime_error("OpenSSL could not export the public key");
  }
  EVP_PKEY* publicKey =
      EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, raw, size);
  if (publicKey == nullptr) {
    throw std::runtime_error("OpenSSL could not import the public key");
  }
  return VerifyingKey(ownKey(publicKey));
}

void generateSigningKeyPair(const std::filesystem::path& privatePath,
                            const std::filesystem::path& publicPath) {
  SigningKey key = SigningKey::generate();
  key.writePem(privatePath);
  key.verifyingKey().writePem(publicPath);
}

std::string actionSigningMessage(const Digest& actionKey,
                                 const RemoteActionEntry& entry) {
  std::string message(kSigningContext);
  message.append(reinterpret_cast<const char*>(actionKey.bytes.data()),
                 actionKey.bytes.size());
  message.append(reinterpret_cast<const char*>(entry.manifest.bytes.data()),
                 entry.manifest.bytes.size());
  appendBigEndian64(&message, entry.manifestSize);
  return message;
}

std::string signActionEntry(const SigningKey& key, const Digest& actionKey,
                            const RemoteActionEntry& entry) {
  return key.sign(actionSigningMessage(actionKey, entry));
}

bool verifyActionEntry(const VerifyingKey& key, const Digest& actionKey,
                       const RemoteActionEntry& entry) {
  if (entry.signature.empty()) {
    return false;
  }
  return key.verify(actionSigningMessage(actionKey, entry), entry.signature);
}

}  // namespace kiln
