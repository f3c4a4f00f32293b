#include "core/stat_cache.h"

#include <cstring>
#include <ctime>
#include <mutex>

#include "util/atomic_file.h"

namespace kiln {

namespace {

constexpr char kMagic[8] = {'k', 'i', 'l', 'n', 's', 't', 'a', '1'};

std::int64_t nanoseconds(const struct timespec& time) {
  return static_cast<std::int64_t>(time.tv_sec) * 1'000'000'000 + time.tv_nsec;
}

std::int64_t nowNs() {
  struct timespec now;
  ::clock_gettime(CLOCK_REALTIME, &now);
  return nanoseconds(now);
}

template <typename T>
void append(std::string& out, const T& value) {
  out.append(reinterpret_cast<const char*>(&value), sizeof value);
}

template <typename T>
bool take(const std::string& in, std::size_t* offset, T* value) {
  if (*offset + sizeof(T) > in.size()) {
    return false;
  }
  std::memcpy(value, in.data() + *offset, sizeof(T));
  *offset += sizeof(T);
  return true;
}

}  // namespace

FileStamp FileStamp::of(const struct stat& info) {
  FileStamp stamp;
  stamp.size = static_cast<std::uint64_t>(info.st_size);
  stamp.mtimeNs = nanoseconds(info.st_mtim);
  stamp.ctimeNs = nanoseconds(info.st_ctim);
  stamp.inode = info.st_ino;
  stamp.mode = info.st_mode;
  return stamp;
}

StatCache::StatCache(std::filesystem::path file) : file_(std::move(file)) {
  std::string data;
  if (!tryReadFile(file_, &data) || data.size() < sizeof kMagic ||
      std::memcmp(data.data(), kMagic, sizeof kMagic) != 0) {
    return;
  }
  // About 100 bytes an entry: sized once, the map is never rehashed while
  // it fills (a workspace with node_modules has thousands of entries).
  entries_.reserve(data.size() / 96);
  std::size_t offset = sizeof kMagic;
  while (offset < data.size()) {
    std::uint32_t length = 0;
    Entry entry;
    if (!take(data, &offset, &length) || offset + length > data.size()) {
      entries_.clear();
      return;
    }
    std::string path = data.substr(offset, length);
    offset += length;
    if (!take(data, &offset, &entry.stamp) ||
        !take(data, &offset, &entry.digest.bytes)) {
      entries_.clear();
      return;
    }
    entries_.emplace(std::move(path), entry);
  }
}

std::optional<Digest> StatCache::lookup(const std::string& path,
                                        const struct stat& info) const {
  std::shared_lock lock(mutex_);
  auto found = entries_.find(path);
  if (found != entries_.end() && found->second.stamp == FileStamp::of(info)) {
    return found->second.digest;
  }
  return std::nullopt;
}

void StatCache::remember(const std::string& path, const struct stat& info,
                         const Digest& digest) {
  Entry entry{FileStamp::of(info), digest, true};
  std::int64_t now = nowNs();
  if (now - entry.stamp.mtimeNs < kRacyWindowNs ||
      now - entry.stamp.ctimeNs < kRacyWindowNs) {
    entry.persist = false;
  }
  std::unique_lock lock(mutex_);
  entries_[path] = entry;
  dirty_ = true;
}

Digest StatCache::digest(const std::string& path, const struct stat& info) {
  if (auto known = lookup(path, info)) {
    return *known;
  }
  Digest digest = sha256File(path);
  remember(path, info, digest);
  return digest;
}

void StatCache::save() {
  std::string data(kMagic, sizeof kMagic);
  {
    std::shared_lock lock(mutex_);
    if (!dirty_) {
      return;
    }
    for (const auto& [path, entry] : entries_) {
      if (!entry.persist) {
        continue;
      }
      append(data, static_cast<std::uint32_t>(path.size()));
      data += path;
      append(data, entry.stamp);
      data.append(reinterpret_cast<const char*>(entry.digest.bytes.data()),
                  entry.digest.bytes.size());
    }
  }
  writeFileAtomic(file_, data);
  dirty_ = false;
}

}  // namespace kiln
