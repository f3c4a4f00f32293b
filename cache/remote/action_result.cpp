#include "cache/remote/action_result.h"

#include <optional>

#include "cache/remote/protobuf_wire.h"

namespace kiln {

namespace {

// Field numbers from REAPI v2 remote_execution.proto
// (build.bazel.remote.execution.v2).
constexpr std::uint32_t kActionResultOutputFiles = 2;
constexpr std::uint32_t kOutputFilePath = 1;
constexpr std::uint32_t kOutputFileDigest = 2;
constexpr std::uint32_t kOutputFileContents = 5;
constexpr std::uint32_t kDigestHash = 1;
constexpr std::uint32_t kDigestSizeBytes = 2;

// The largest size_bytes that fits protobuf's int64.
constexpr std::uint64_t kMaxSizeBytes = 0x7fffffffffffffffULL;

std::string encodeDigest(const Digest& digest, std::uint64_t size) {
  ProtoWriter writer;
  writer.writeBytes(kDigestHash, digest.hex());
  // proto3 leaves a zero scalar out of the encoding.
  if (size != 0) {
    writer.writeVarint(kDigestSizeBytes, size);
  }
  return writer.bytes();
}

std::string encodeOutputFile(std::string_view path, const Digest& digest,
                             std::uint64_t size, std::string_view contents) {
  ProtoWriter writer;
  writer.writeBytes(kOutputFilePath, path);
  writer.writeBytes(kOutputFileDigest, encodeDigest(digest, size));
  if (!contents.empty()) {
    writer.writeBytes(kOutputFileContents, contents);
  }
  return writer.bytes();
}

// An OutputFile as read, before kiln interprets it.
struct DecodedOutputFile {
  std::string path;
  std::optional<Digest> digest;
  std::uint64_t size = 0;
  std::string contents;
};

bool decodeDigest(std::string_view bytes, DecodedOutputFile* file,
                  std::string* error) {
  ProtoReader reader(bytes);
  ProtoField field;
  std::string_view hash;
  while (reader.next(&field)) {
    if (field.number == kDigestHash &&
        field.type == WireType::kLengthDelimited) {
      hash = field.bytes;
    } else if (field.number == kDigestSizeBytes &&
               field.type == WireType::kVarint) {
      file->size = field.varint;
    }
  }
  if (!reader.error().empty()) {
    *error = "malformed Digest: " + reader.error();
    return false;
  }
  if (file->size > kMaxSizeBytes) {
    *error = "Digest.size_bytes is negative";
    return false;
  }
  Digest digest;
  if (!Digest::parse(hash, &digest)) {
    *error = "Digest.hash is not 64 hexadecimal characters";
    return false;
  }
  file->digest = digest;
  return true;
}

bool decodeOutputFile(std::string_view bytes, DecodedOutputFile* file,
                      std::string* error) {
  ProtoReader reader(bytes);
  ProtoField field;
  while (reader.next(&field)) {
    bool isBytes = field.type == WireType::kLengthDelimited;
    if (field.number == kOutputFilePath && isBytes) {
      file->path = field.bytes;
    } else if (field.number == kOutputFileDigest && isBytes) {
      if (!decodeDigest(field.bytes, file, error)) {
        return false;
      }
    } else if (field.number == kOutputFileContents && isBytes) {
      file->contents = field.bytes;
    }
  }
  if (!reader.error().empty()) {
    *error = "malformed OutputFile: " + reader.error();
    return false;
  }
  return true;
}

}  // namespace

// NOTE: bazel-remote's acceptance of these bytes was checked against its
// source (utils/validate/action_result.go and GetValidatedActionResult in
// cache/disk/disk.go, July 2026) and with protoc, not against a running
// bazel-remote or BuildBuddy, which Debian 12 does not package.
std::string encodeActionResult(const RemoteActionEntry& entry) {
  ProtoWriter writer;
  writer.writeBytes(kActionResultOutputFiles,
                    encodeOutputFile(kManifestOutputPath, entry.manifest,
                                     entry.manifestSize, {}));
  if (!entry.signature.empty()) {
    // bazel-remote checks that every OutputFile without inline contents
    // exists in the CAS, so the signature travels inline. Its digest is that
    // of the contents, which keeps the OutputFile valid by REAPI's rules.
    writer.writeBytes(
        kActionResultOutputFiles,
        encodeOutputFile(kSignatureOutputPath, sha256(entry.signature),
                         entry.signature.size(), entry.signature));
  }
  return writer.bytes();
}

bool decodeActionResult(std::string_view bytes, RemoteActionEntry* entry,
                        std::string* error) {
  ProtoReader reader(bytes);
  ProtoField field;
  std::optional<DecodedOutputFile> manifest;
  std::optional<DecodedOutputFile> signature;

  while (reader.next(&field)) {
    if (field.number != kActionResultOutputFiles ||
        field.type != WireType::kLengthDelimited) {
      continue;
    }
    DecodedOutputFile file;
    if (!decodeOutputFile(field.bytes, &file, error)) {
      return false;
    }
    if (file.path == kManifestOutputPath) {
      manifest = std::move(file);
    } else if (file.path == kSignatureOutputPath) {
      signature = std::move(file);
    }
  }
  if (!reader.error().empty()) {
    *error = "malformed ActionResult: " + reader.error();
    return false;
  }

  if (!manifest || !manifest->digest) {
    *error = "ActionResult has no OutputFile named " +
             std::string(kManifestOutputPath);
    return false;
  }
  entry->manifest = *manifest->digest;
  entry->manifestSize = manifest->size;
  entry->signature.clear();

  if (signature) {
    if (!signature->digest ||
        sha256(signature->contents) != *signature->digest ||
        signature->size != signature->contents.size()) {
      *error = "the digest of OutputFile " + std::string(kSignatureOutputPath) +
               " does not match its contents";
      return false;
    }
    entry->signature = std::move(signature->contents);
  }
  return true;
}

}  // namespace kiln
