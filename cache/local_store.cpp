#include "cache/local_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <system_error>

#include "cache/blob_codec.h"
#include "util/atomic_file.h"

namespace kiln {

namespace fs = std::filesystem;

namespace {

// Closes a file descriptor when it goes out of scope.
class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  ~FileDescriptor() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

[[noreturn]] void throwErrno(const std::string& what) {
  throw std::system_error(errno, std::generic_category(), what);
}

std::string shard(const std::string& hex) {
  return hex.substr(0, 2);
}

}  // namespace

LocalStore::LocalStore(fs::path root) : root_(std::move(root)) {
  fs::create_directories(root_ / "cas");
  fs::create_directories(root_ / "ac");
  fs::create_directories(root_ / "tmp");
}

fs::path LocalStore::defaultDir() {
  if (const char* dir = std::getenv("KILN_CACHE_DIR"); dir && *dir) {
    return dir;
  }
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) {
    return fs::path(xdg) / "kiln";
  }
  const char* home = std::getenv("HOME");
  return fs::path(home != nullptr ? home : "/tmp") / ".cache" / "kiln";
}

fs::path LocalStore::blobPath(const Digest& digest) const {
  std::string hex = digest.hex();
  return root_ / "cas" / shard(hex) / hex;
}

fs::path LocalStore::actionPath(const std::string& key) const {
  return root_ / "ac" / shard(key) / key;
}

fs::path LocalStore::temporaryPath() const {
  static std::atomic<unsigned long> counter{0};
  static const std::string pid = std::to_string(::getpid());
  return root_ / "tmp" / (pid + "." + std::to_string(counter++));
}

void LocalStore::install(const fs::path& temporary, const fs::path& final) {
  // The shard directory usually exists: try the rename before creating it.
  if (::rename(temporary.c_str(), final.c_str()) == 0) {
    return;
  }
  fs::create_directories(final.parent_path());
  if (::rename(temporary.c_str(), final.c_str()) != 0) {
    int error = errno;
    ::unlink(temporary.c_str());
    throw std::system_error(error, std::generic_category(),
                            "cannot install " + final.string());
  }
}

bool LocalStore::hasBlob(const Digest& digest) const {
  struct stat info;
  return ::stat(blobPath(digest).c_str(), &info) == 0;
}

LocalStore::StagedBlob LocalStore::stageFile(const fs::path& file) {
  FileDescriptor in(::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (in.get() < 0) {
    throwErrno("cannot read " + file.string());
  }
  StagedBlob blob{temporaryPath(), Digest()};
  FileDescriptor out(::open(blob.temporary.c_str(),
                            O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444));
  if (out.get() < 0) {
    throwErrno("cannot create " + blob.temporary.string());
  }
  try {
    std::uint64_t size = 0;
    blob.digest = compressFile(in.get(), out.get(), &size);
  } catch (...) {
    ::unlink(blob.temporary.c_str());
    throw;
  }
  return blob;
}

LocalStore::StagedBlob LocalStore::stageBytes(std::string_view data) {
  StagedBlob blob{temporaryPath(), sha256(data)};
  std::string compressed = compressBytes(data);
  FileDescriptor out(::open(blob.temporary.c_str(),
                            O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444));
  if (out.get() < 0) {
    throwErrno("cannot create " + blob.temporary.string());
  }
  std::string_view rest = compressed;
  while (!rest.empty()) {
    ssize_t written = ::write(out.get(), rest.data(), rest.size());
    if (written < 0 && errno == EINTR) {
      continue;
    }
    if (written <= 0) {
      int error = errno;
      ::unlink(blob.temporary.c_str());
      throw std::system_error(error, std::generic_category(),
                              "cannot write " + blob.temporary.string());
    }
    rest.remove_prefix(static_cast<std::size_t>(written));
  }
  return blob;
}

void LocalStore::commitBlobs(const std::vector<StagedBlob>& blobs) {
  if (blobs.empty()) {
    return;
  }
  FileDescriptor root(::open(root_.c_str(), O_RDONLY | O_CLOEXEC));
  if (root.get() < 0 || ::syncfs(root.get()) != 0) {
    int error = errno;
    for (const auto& blob : blobs) {
      ::unlink(blob.temporary.c_str());
    }
    throw std::system_error(error, std::generic_category(),
                            "cannot sync the cache in " + root_.string());
  }
  for (const auto& blob : blobs) {
    if (hasBlob(blob.digest)) {
      ::unlink(blob.temporary.c_str());
    } else {
      install(blob.temporary, blobPath(blob.digest));
    }
  }
}

Digest LocalStore::putFile(const fs::path& file,
                           const std::optional<Digest>& expected) {
  if (expected && hasBlob(*expected)) {
    return *expected;
  }
  FileDescriptor in(::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (in.get() < 0) {
    throwErrno("cannot read " + file.string());
  }
  fs::path temporary = temporaryPath();
  FileDescriptor out(
      ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444));
  if (out.get() < 0) {
    throwErrno("cannot create " + temporary.string());
  }
  Digest digest;
  try {
    std::uint64_t size = 0;
    digest = compressFile(in.get(), out.get(), &size);
    if (::fsync(out.get()) != 0) {
      throwErrno("cannot write " + temporary.string());
    }
  } catch (...) {
    ::unlink(temporary.c_str());
    throw;
  }
  if (expected && digest != *expected) {
    ::unlink(temporary.c_str());
    throw std::runtime_error(file.string() + " changed while kiln read it");
  }
  if (hasBlob(digest)) {
    ::unlink(temporary.c_str());
  } else {
    install(temporary, blobPath(digest));
  }
  return digest;
}

Digest LocalStore::putBytes(std::string_view data) {
  Digest digest = sha256(data);
  if (!hasBlob(digest)) {
    fs::path temporary = temporaryPath();
    writeFileAtomic(temporary, compressBytes(data), 0444);
    install(temporary, blobPath(digest));
  }
  return digest;
}

BlobRead LocalStore::readToFd(const Digest& digest, int fd) {
  fs::path path = blobPath(digest);
  FileDescriptor in(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (in.get() < 0) {
    return BlobRead::kMissing;
  }
  Digest actual;
  std::uint64_t size = 0;
  if (!decompressFile(in.get(), fd, &actual, &size) || actual != digest) {
    ::unlink(path.c_str());
    return BlobRead::kCorrupt;
  }
  return BlobRead::kOk;
}

BlobRead LocalStore::readBytes(const Digest& digest, std::string* data) {
  fs::path path = blobPath(digest);
  std::string compressed;
  if (!tryReadFile(path, &compressed)) {
    return BlobRead::kMissing;
  }
  if (!decompressBytes(compressed, data) || sha256(*data) != digest) {
    ::unlink(path.c_str());
    return BlobRead::kCorrupt;
  }
  return BlobRead::kOk;
}

std::optional<std::string> LocalStore::getAction(const std::string& key) {
  fs::path path = actionPath(key);
  std::string entry;
  if (!tryReadFile(path, &entry)) {
    return std::nullopt;
  }
  ::utimensat(AT_FDCWD, path.c_str(), nullptr, 0);  // now: last used
  return entry;
}

void LocalStore::putAction(const std::string& key, std::string_view entry) {
  fs::path temporary = temporaryPath();
  writeFileAtomic(temporary, entry, 0644);
  install(temporary, actionPath(key));
}

void LocalStore::removeAction(const std::string& key) {
  ::unlink(actionPath(key).c_str());
}

void LocalStore::addCounts(std::uint64_t hits, std::uint64_t misses,
                           std::uint64_t stores) {
  if (hits == 0 && misses == 0 && stores == 0) {
    return;  // a no-op build writes nothing to the store
  }
  fs::path path = root_ / "stats.json";
  FileDescriptor lock(::open((root_ / "stats.lock").c_str(),
                             O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  if (lock.get() < 0 || ::flock(lock.get(), LOCK_EX) != 0) {
    return;  // counts are informational; never fail a build for them
  }
  nlohmann::json counts = {{"hits", 0}, {"misses", 0}, {"stores", 0}};
  std::string text;
  if (tryReadFile(path, &text)) {
    try {
      counts = nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception&) {
    }
  }
  counts["hits"] = counts.value("hits", 0ull) + hits;
  counts["misses"] = counts.value("misses", 0ull) + misses;
  counts["stores"] = counts.value("stores", 0ull) + stores;
  writeFileAtomic(path, counts.dump() + "\n");
}

std::string ActionRecord::serialize() const {
  nlohmann::json json = {{"version", 1},
                         {"manifest", manifest.hex()},
                         {"log", log.hex()},
                         {"output_bytes", outputBytes},
                         {"duration_ms", durationMs}};
  return json.dump();
}

bool ActionRecord::parse(std::string_view json, ActionRecord* record) {
  try {
    nlohmann::json document = nlohmann::json::parse(json);
    if (document.at("version").get<int>() != 1) {
      return false;
    }
    record->outputBytes = document.at("output_bytes").get<std::uint64_t>();
    record->durationMs = document.at("duration_ms").get<std::uint64_t>();
    return Digest::parse(document.at("manifest").get<std::string>(),
                         &record->manifest) &&
           Digest::parse(document.at("log").get<std::string>(), &record->log);
  } catch (const nlohmann::json::exception&) {
    return false;
  }
}

}  // namespace kiln
