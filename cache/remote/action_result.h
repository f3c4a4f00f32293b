#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "util/sha256.h"

namespace kiln {

/// The entry kiln stores under an action key in a remote action cache: the CAS
/// digest and size of the step's result manifest, and an optional Ed25519
/// signature over the action key and that digest (see signature.h).
struct RemoteActionEntry {
  Digest manifest;
  std::uint64_t manifestSize = 0;
  std::string signature;  // 64 raw bytes, or empty when unsigned

  bool operator==(const RemoteActionEntry&) const = default;
};

/// The OutputFile path that names the result manifest inside the REAPI
/// ActionResult. The manifest itself is a CAS blob.
inline constexpr std::string_view kManifestOutputPath = "kiln-result.json";

/// The OutputFile path that carries the signature inline, as `contents`.
inline constexpr std::string_view kSignatureOutputPath =
    "kiln-signature.ed25519";

/// Encodes an entry as a REAPI build.bazel.remote.execution.v2.ActionResult
/// in protobuf wire format, which bazel-remote accepts under /ac/. The
/// manifest becomes one OutputFile with a digest and no contents. A
/// signature becomes a second OutputFile with the signature as inline
/// contents and their SHA-256 as its digest.
std::string encodeActionResult(const RemoteActionEntry& entry);

/// Decodes an ActionResult written by encodeActionResult, skipping fields
/// that servers add (bazel-remote sets execution_metadata.worker) and that
/// kiln does not use. Returns false and sets `error` if the bytes are not a
/// well-formed ActionResult, if the manifest OutputFile is missing, or if
/// the signature OutputFile's digest does not match its contents.
bool decodeActionResult(std::string_view bytes, RemoteActionEntry* entry,
                        std::string* error);

}  // namespace kiln
