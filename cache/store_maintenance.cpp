// Statistics, verification and eviction of the local store.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "cache/blob_codec.h"
#include "cache/local_store.h"
#include "cache/tree_manifest.h"
#include "util/atomic_file.h"

namespace kiln {

namespace fs = std::filesystem;

namespace {

struct FileInfo {
  fs::path path;
  std::string name;
  std::uint64_t size = 0;
  std::int64_t mtime = 0;  // seconds
};

std::vector<FileInfo> listShardedFiles(const fs::path& dir) {
  std::vector<FileInfo> files;
  std::error_code error;
  for (const auto& shardDir : fs::directory_iterator(dir, error)) {
    std::error_code inner;
    for (const auto& entry : fs::directory_iterator(shardDir.path(), inner)) {
      struct stat info;
      if (::lstat(entry.path().c_str(), &info) != 0 || !S_ISREG(info.st_mode)) {
        continue;
      }
      files.push_back({entry.path(), entry.path().filename().string(),
                       static_cast<std::uint64_t>(info.st_size),
                       static_cast<std::int64_t>(info.st_mtime)});
    }
  }
  return files;
}

// Adds the blobs an action entry refers to; false if the entry or its
// manifest cannot be read.
bool collectReferences(LocalStore& store, const std::string& entryText,
                       std::set<std::string>* referenced,
                       std::string* problem) {
  // An image layer's entry (written by image steps) names one compressed
  // layer blob and its uncompressed digest, which is not a blob.
  if (entryText.find("\"diff_id\"") != std::string::npos) {
    try {
      nlohmann::json layer = nlohmann::json::parse(entryText);
      Digest digest;
      Digest diffId;
      if (layer.at("version") == 1 &&
          Digest::parse(layer.at("digest").get<std::string>(), &digest) &&
          Digest::parse(layer.at("diff_id").get<std::string>(), &diffId)) {
        referenced->insert(digest.hex());
        return true;
      }
    } catch (const nlohmann::json::exception&) {
    }
    *problem = "unreadable layer entry";
    return false;
  }
  ActionRecord record;
  if (!ActionRecord::parse(entryText, &record)) {
    *problem = "unreadable entry";
    return false;
  }
  referenced->insert(record.manifest.hex());
  referenced->insert(record.log.hex());
  std::string manifestText;
  if (store.readBytes(record.manifest, &manifestText) != BlobRead::kOk) {
    *problem = "manifest blob " + record.manifest.hex() + " missing or corrupt";
    return false;
  }
  TreeManifest manifest;
  std::string error;
  if (!TreeManifest::parse(manifestText, &manifest, &error)) {
    *problem = error;
    return false;
  }
  for (const auto& entry : manifest.entries) {
    if (entry.type == EntryType::kFile) {
      referenced->insert(entry.digest.hex());
    }
  }
  return true;
}

}  // namespace

StoreStats LocalStore::stats() const {
  StoreStats stats;
  stats.actionEntries = listShardedFiles(root_ / "ac").size();
  for (const auto& blob : listShardedFiles(root_ / "cas")) {
    ++stats.blobs;
    stats.blobBytes += blob.size;
  }
  std::string text;
  if (tryReadFile(root_ / "stats.json", &text)) {
    try {
      nlohmann::json counts = nlohmann::json::parse(text);
      stats.hits = counts.value("hits", 0ull);
      stats.misses = counts.value("misses", 0ull);
      stats.stores = counts.value("stores", 0ull);
    } catch (const nlohmann::json::exception&) {
    }
  }
  return stats;
}

VerifyReport LocalStore::verify() const {
  VerifyReport report;
  for (const auto& blob : listShardedFiles(root_ / "cas")) {
    ++report.blobsChecked;
    Digest expected;
    if (!Digest::parse(blob.name, &expected)) {
      report.problems.push_back("stray file " + blob.path.string());
      continue;
    }
    int fd = ::open(blob.path.c_str(), O_RDONLY | O_CLOEXEC);
    Digest actual;
    std::uint64_t size = 0;
    bool valid = fd >= 0 && decompressFile(fd, -1, &actual, &size);
    if (fd >= 0) {
      ::close(fd);
    }
    if (!valid) {
      report.problems.push_back("blob " + blob.name + " is not valid zstd");
    } else if (actual != expected) {
      report.problems.push_back("blob " + blob.name + " holds content " +
                                actual.hex());
    }
  }
  LocalStore& self = const_cast<LocalStore&>(*this);
  for (const auto& entry : listShardedFiles(root_ / "ac")) {
    ++report.entriesChecked;
    std::string text;
    std::set<std::string> referenced;
    std::string problem;
    if (!tryReadFile(entry.path, &text) ||
        !collectReferences(self, text, &referenced, &problem)) {
      report.problems.push_back("entry " + entry.name + ": " + problem);
      continue;
    }
    for (const auto& hex : referenced) {
      Digest digest;
      Digest::parse(hex, &digest);
      if (!hasBlob(digest)) {
        report.problems.push_back("entry " + entry.name +
                                  " refers to missing "
                                  "blob " +
                                  hex);
      }
    }
  }
  return report;
}

GcReport LocalStore::gc(std::optional<std::uint64_t> maxSize,
                        std::optional<std::chrono::seconds> maxAge) {
  GcReport report;
  std::int64_t now = ::time(nullptr);
  std::vector<FileInfo> entries = listShardedFiles(root_ / "ac");
  std::sort(entries.begin(), entries.end(),
            [](const FileInfo& a, const FileInfo& b) {
              return a.mtime > b.mtime;  // most recently used first
            });
  std::vector<FileInfo> blobs = listShardedFiles(root_ / "cas");
  std::uint64_t blobBytes = 0;
  for (const auto& blob : blobs) {
    blobBytes += blob.size;
  }

  // Keep the most recently used entries that are young enough, while
  // their blobs fit the size limit.
  std::set<std::string> referenced;
  std::uint64_t keptBytes = 0;
  std::map<std::string, std::uint64_t> blobSizes;
  for (const auto& blob : blobs) {
    blobSizes[blob.name] = blob.size;
  }
  for (const auto& entry : entries) {
    bool tooOld = maxAge && now - entry.mtime > maxAge->count();
    std::set<std::string> entryBlobs;
    std::string text;
    std::string problem;
    bool readable = !tooOld && tryReadFile(entry.path, &text) &&
                    collectReferences(*this, text, &entryBlobs, &problem);
    std::uint64_t added = 0;
    for (const auto& hex : entryBlobs) {
      if (referenced.count(hex) == 0) {
        added += blobSizes.count(hex) ? blobSizes[hex] : 0;
      }
    }
    bool fits = !maxSize || keptBytes + added <= *maxSize;
    if (readable && fits) {
      referenced.insert(entryBlobs.begin(), entryBlobs.end());
      keptBytes += added;
      continue;
    }
    if (::unlink(entry.path.c_str()) == 0) {
      ++report.entriesRemoved;
    }
  }

  for (const auto& blob : blobs) {
    if (referenced.count(blob.name) > 0) {
      continue;
    }
    if (::unlink(blob.path.c_str()) == 0) {
      ++report.blobsRemoved;
      report.bytesFreed += blob.size;
    }
  }
  report.bytesLeft = blobBytes - report.bytesFreed;

  // Temporary files older than an hour belong to processes that died.
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(root_ / "tmp", error)) {
    struct stat info;
    if (::lstat(entry.path().c_str(), &info) == 0 &&
        now - info.st_mtime > 3600) {
      ::unlink(entry.path().c_str());
    }
  }
  return report;
}

}  // namespace kiln
