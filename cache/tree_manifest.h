#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "util/sha256.h"

namespace kiln {

/// The type of an entry in a step's outputs.
enum class EntryType { kFile, kDirectory, kSymlink };

/// One file, directory or symbolic link of a step's outputs.
struct TreeEntry {
  std::string path;  // relative to the repository root, '/'-separated
  EntryType type = EntryType::kFile;
  unsigned mode = 0644;    // permission bits only (no setuid/setgid/sticky)
  std::uint64_t size = 0;  // files
  Digest digest;           // files: SHA-256 of the content
  std::string target;      // symlinks: the link text, never followed

  bool operator==(const TreeEntry&) const = default;
};

/// A step's outputs: entries sorted by path. Its canonical JSON encoding is
/// stored in the CAS, and the digest of that encoding is the step's output
/// digest, which dependents' action keys include.
struct TreeManifest {
  std::vector<TreeEntry> entries;

  /// Canonical JSON: one fixed key order, entries sorted by path.
  std::string serialize() const;
  Digest digest() const;
  std::uint64_t totalFileBytes() const;

  /// Parses and validates; returns false (and a reason) for malformed JSON
  /// or an unsafe entry (see validateEntryPath).
  static bool parse(std::string_view json, TreeManifest* manifest,
                    std::string* error);
};

/// Returns an empty string if `path` is a safe relative path that lies
/// under one of `roots` (or is one of them), else why it is not: absolute,
/// empty, with "." or ".." segments, or outside every root.
std::string validateEntryPath(std::string_view path,
                              const std::vector<std::string>& roots);

std::string entryTypeName(EntryType type);

}  // namespace kiln
