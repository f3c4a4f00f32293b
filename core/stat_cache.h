#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>

#include "util/sha256.h"

namespace kiln {

/// The stat data that identifies one version of a file.
struct FileStamp {
  std::uint64_t size = 0;
  std::int64_t mtimeNs = 0;
  std::int64_t ctimeNs = 0;
  std::uint64_t inode = 0;
  std::uint32_t mode = 0;

  static FileStamp of(const struct stat& info);
  bool operator==(const FileStamp&) const = default;
};

/// Remembers each file's digest by path and stat data, so an unchanged file
/// is never read twice. Like git's index, it guards against racy timestamps:
/// a file whose mtime or ctime is within `kRacyWindow` of the moment it was
/// hashed could change again without a new timestamp, so its digest is used
/// for this build but not kept for the next one. Persisted in the
/// workspace's state directory; safe for concurrent use by several threads.
class StatCache {
 public:
  /// Loads the cache from `file`; a missing or unreadable file is an empty
  /// cache.
  explicit StatCache(std::filesystem::path file);

  /// Returns the file's digest, reading it only if its stamp changed.
  /// Throws std::system_error if the file cannot be read.
  Digest digest(const std::string& path, const struct stat& info);

  /// Returns a digest already known for this stamp, without reading.
  std::optional<Digest> lookup(const std::string& path,
                               const struct stat& info) const;

  /// Records a digest computed elsewhere (a file just restored or stored).
  void remember(const std::string& path, const struct stat& info,
                const Digest& digest);

  /// Writes the cache back if anything changed.
  void save();

  static constexpr std::int64_t kRacyWindowNs = 2'000'000'000;

 private:
  struct Entry {
    FileStamp stamp;
    Digest digest;
    bool persist = true;
  };

  std::filesystem::path file_;
  mutable std::shared_mutex mutex_;
  std::unordered_map<std::string, Entry> entries_;
  bool dirty_ = false;
};

}  // namespace kiln
