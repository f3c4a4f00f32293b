#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/sha256.h"

namespace kiln {

/// The result of reading a blob.
enum class BlobRead {
  kOk,
  kMissing,  // no such blob
  kCorrupt,  // bytes do not match the digest; the blob was deleted
};

/// Hit and miss counts and sizes, for `kiln cache stats`.
struct StoreStats {
  std::uint64_t actionEntries = 0;
  std::uint64_t blobs = 0;
  std::uint64_t blobBytes = 0;  // compressed, on disk
  std::uint64_t hits = 0;
  std::uint64_t misses = 0;
  std::uint64_t stores = 0;
};

/// The outcome of `kiln cache verify`.
struct VerifyReport {
  std::uint64_t blobsChecked = 0;
  std::uint64_t entriesChecked = 0;
  std::vector<std::string> problems;  // one sentence per bad blob or entry
};

/// The outcome of `kiln cache gc`.
struct GcReport {
  std::uint64_t entriesRemoved = 0;
  std::uint64_t blobsRemoved = 0;
  std::uint64_t bytesFreed = 0;
  std::uint64_t bytesLeft = 0;
};

/// The local cache in one directory, shared by every workspace of a user and
/// by concurrent kiln processes:
///   cas/XX/<sha256>  one zstd frame of the content named by its SHA-256
///   ac/XX/<key>      an action-cache entry (kiln's result JSON)
///   tmp/             temporary files, renamed into place when complete
/// Every write goes to a temporary file, is flushed with fsync and renamed,
/// so readers see whole files or none. Every blob read is checked against
/// its digest; a corrupt blob is deleted and reported, never returned.
class LocalStore {
 public:
  explicit LocalStore(std::filesystem::path root);

  /// $KILN_CACHE_DIR, else $XDG_CACHE_HOME/kiln, else ~/.cache/kiln.
  static std::filesystem::path defaultDir();

  const std::filesystem::path& root() const { return root_; }
  std::filesystem::path blobPath(const Digest& digest) const;
  std::filesystem::path actionPath(const std::string& key) const;

  bool hasBlob(const Digest& digest) const;

  /// Stores a file's content and returns its digest. When `expected` is
  /// given and that blob exists, nothing is read. Throws std::system_error
  /// if the file cannot be read, and std::runtime_error if the content no
  /// longer matches `expected` (the file changed while kiln read it).
  Digest putFile(const std::filesystem::path& file,
                 const std::optional<Digest>& expected = std::nullopt);
  Digest putBytes(std::string_view data);

  /// A blob written to a temporary file but not yet synced or installed.
  struct StagedBlob {
    std::filesystem::path temporary;
    Digest digest;
  };
  /// Compresses a file into a temporary blob without syncing it, for a
  /// batch that commitBlobs makes durable at once. Throws like putFile.
  StagedBlob stageFile(const std::filesystem::path& file);
  /// The same for bytes held in memory.
  StagedBlob stageBytes(std::string_view data);
  /// Syncs the staged blobs' file system once (syncfs), then installs each
  /// blob: still a temporary file, a sync and a rename per blob, but one
  /// sync for thousands of files instead of one each.
  void commitBlobs(const std::vector<StagedBlob>& blobs);

  /// Writes a blob's content to the open file `fd`, checking the digest.
  BlobRead readToFd(const Digest& digest, int fd);
  BlobRead readBytes(const Digest& digest, std::string* data);

  /// Returns an action-cache entry and marks it used (for LRU eviction).
  std::optional<std::string> getAction(const std::string& key);
  void putAction(const std::string& key, std::string_view entry);
  void removeAction(const std::string& key);

  /// Adds this process's counts to the store's totals.
  void addCounts(std::uint64_t hits, std::uint64_t misses,
                 std::uint64_t stores);
  StoreStats stats() const;

  /// Checks every blob against its name and every entry's references.
  VerifyReport verify() const;

  /// Removes entries unused for longer than `maxAge`, then least recently
  /// used entries until the blobs fit `maxSize` bytes, then every blob no
  /// remaining entry refers to. Safe while builds run: a build that finds a
  /// blob gone treats it as a miss and runs the step.
  GcReport gc(std::optional<std::uint64_t> maxSize,
              std::optional<std::chrono::seconds> maxAge);

 private:
  std::filesystem::path temporaryPath() const;
  void install(const std::filesystem::path& temporary,
               const std::filesystem::path& final);

  std::filesystem::path root_;
};

/// The result of a cached action, stored as an action-cache entry: where its
/// outputs and log are, and what running it cost.
struct ActionRecord {
  Digest manifest;  // the TreeManifest blob
  Digest log;       // the step's log blob
  std::uint64_t outputBytes = 0;
  std::uint64_t durationMs = 0;

  std::string serialize() const;
  static bool parse(std::string_view json, ActionRecord* record);
};

}  // namespace kiln
