#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "cache/local_store.h"
#include "cache/tree_manifest.h"
#include "core/stat_cache.h"

namespace kiln {

/// A step's outputs as they are on disk now.
struct OutputSnapshot {
  TreeManifest manifest;
  /// Digest over every entry's path and mode, and the size, mtime, ctime
  /// and inode of files and symlinks: equal signatures mean no output was
  /// added, removed or touched. Directories' times are left out, because
  /// creating and removing a temporary file changes them.
  Digest signature;
};

/// Walks the declared outputs (paths relative to `root`; entries that start
/// with "!" are globs of paths below them that are not outputs) without
/// following symlinks and hashes their files (the stat cache skips unchanged
/// ones, the rest are hashed in parallel). Missing outputs are left out. Throws
/// UsageError for a file type the cache cannot hold (a socket, a device).
OutputSnapshot snapshotOutputs(const std::filesystem::path& root,
                               const std::vector<std::string>& outputs,
                               StatCache& statCache);

/// Computes only the signature of the declared outputs: stat calls, no
/// reads.
Digest outputSignature(const std::filesystem::path& root,
                       const std::vector<std::string>& outputs);

/// Stores the content of every file of the manifest in the store; files
/// already there are skipped.
void storeOutputs(const std::filesystem::path& root,
                  const TreeManifest& manifest, LocalStore& store);

/// The result of a restore.
struct RestoreResult {
  bool ok = false;
  std::string error;  // why the restore failed; the step must run instead
  std::size_t written = 0;
  std::size_t skipped = 0;  // already identical on disk
};

/// Makes the declared outputs exactly what the manifest says: removes what
/// the manifest lacks, skips files already identical, writes the rest from
/// the store with their permission bits, keeps symlinks as symlinks, and
/// creates empty directories. Writes only below the declared outputs and
/// never through a symlink (openat2 with RESOLVE_NO_SYMLINKS). A manifest
/// with an unsafe path or a missing or corrupt blob fails the restore.
RestoreResult restoreOutputs(const std::filesystem::path& root,
                             const std::vector<std::string>& outputs,
                             const TreeManifest& manifest, LocalStore& store,
                             StatCache& statCache);

/// Checks that every entry of a manifest is a safe path below one of the
/// declared outputs and that no entry lies below a symlink entry. Returns
/// an empty string if so, else the reason.
std::string validateManifest(const TreeManifest& manifest,
                             const std::vector<std::string>& outputs);

/// Removes the declared outputs of a step from disk.
void removeOutputs(const std::filesystem::path& root,
                   const std::vector<std::string>& outputs);

}  // namespace kiln
