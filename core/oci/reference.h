#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "util/sha256.h"

namespace kiln::oci {

/// An image reference, as Docker and the distribution project parse it:
/// "node:20-alpine" is docker.io/library/node:20-alpine,
/// "127.0.0.1:5000/bases/node20:1" names a registry by host and port, and
/// "name@sha256:<hex>" pins a manifest digest.
struct Reference {
  /// "docker.io", "127.0.0.1:5000", "[::1]:5000", "localhost:5000".
  std::string registry;
  /// "library/node", "bases/node20": lower-case path components.
  std::string repository;
  /// Empty when only a digest was given; "latest" when neither was.
  std::string tag;
  std::optional<Digest> digest;

  /// Parses a reference; throws UsageError naming the invalid part.
  static Reference parse(std::string_view text);

  /// The full form: "docker.io/library/node:20", with "@sha256:..." when a
  /// digest is pinned.
  std::string str() const;

  /// "registry/repository", without tag or digest.
  std::string name() const;

  /// The host and port that serve the registry API ("registry-1.docker.io"
  /// for docker.io).
  std::string apiHost() const;

  /// The manifest to ask for: the digest when pinned, else the tag.
  std::string manifestReference() const;
};

}  // namespace kiln::oci
