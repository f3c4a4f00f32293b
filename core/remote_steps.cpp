#include "core/remote_steps.h"

#include <unistd.h>

#include <atomic>
#include <map>
#include <mutex>
#include <set>

#include "core/outputs.h"
#include "util/thread_pool.h"

namespace kiln {

namespace fs = std::filesystem;

namespace {

// Downloads run on more threads than there are cores, because they mostly
// wait for the network.
ThreadPool& downloadPool() {
  static ThreadPool pool(8);
  return pool;
}

bool parseDigest(const std::string& hex, Digest* digest) {
  return Digest::parse(hex, digest);
}

}  // namespace

RemoteSteps::RemoteSteps(std::unique_ptr<RemoteCache> cache, bool readOnly)
    : cache_(std::move(cache)) {
  if (!readOnly) {
    uploader_ = std::make_unique<Uploader>(*cache_);
  }
}

RemoteSteps::~RemoteSteps() = default;

// Blobs up to this size are downloaded into memory, not to a file.
constexpr std::uint64_t kInMemoryBlobBytes = 1 << 20;

bool RemoteSteps::fetch(const Step& step, const std::string& key,
                        LocalStore& store, std::string* reason) {
  Digest actionKey;
  if (!parseDigest(key, &actionKey) || !cache_->available()) {
    return false;
  }
  RemoteActionEntry entry;
  RemoteResult lookup = cache_->getAction(actionKey, &entry);
  if (!lookup.isOk()) {
    if (lookup.isMiss() && !lookup.message().empty()) {
      *reason = lookup.message();
    }
    return false;
  }

  std::string recordText;
  ActionRecord record;
  if (!cache_->getBlobBytes(entry.manifest, &recordText).isOk() ||
      !ActionRecord::parse(recordText, &record)) {
    *reason = "remote result record missing or unreadable";
    return false;
  }
  std::string manifestText;
  TreeManifest manifest;
  std::string error;
  if (!cache_->getBlobBytes(record.manifest, &manifestText).isOk() ||
      !TreeManifest::parse(manifestText, &manifest, &error)) {
    *reason = "remote output manifest missing or unreadable";
    return false;
  }
  std::string problem = validateManifest(manifest, step.outputs);
  if (!problem.empty()) {
    *reason = "remote output manifest rejected: " + problem;
    return false;
  }

  std::set<Digest> unique = {record.log};
  std::map<Digest, std::uint64_t> sizes;
  for (const auto& file : manifest.entries) {
    if (file.type == EntryType::kFile && !store.hasBlob(file.digest)) {
      unique.insert(file.digest);
      sizes[file.digest] = file.size;
    }
  }
  std::vector<Digest> needed(unique.begin(), unique.end());
  std::atomic<bool> failed{false};
  std::mutex reasonMutex;
  // Blobs are staged in parallel and made durable together: one syncfs
  // instead of an fsync for each of thousands of node_modules files.
  std::vector<LocalStore::StagedBlob> staged;
  std::mutex stagedMutex;
  // Downloads one blob and stages it. Most node_modules files are a few
  // KB: those travel through memory, which saves a file per blob.
  auto downloadAndStage = [&](const Digest& digest) -> RemoteResult {
    auto size = sizes.find(digest);
    bool small = size != sizes.end() && size->second <= kInMemoryBlobBytes;
    // Unique per download, because two steps may fetch the same blob (an
    // identical log) at once.
    static std::atomic<unsigned long> downloads{0};
    fs::path temporary =
        store.root() / "tmp" /
        ("remote." + std::to_string(::getpid()) + "." +
         std::to_string(downloads++) + "." + digest.hex());
    std::string bytes;
    RemoteResult got = small ? cache_->getBlobBytes(digest, &bytes)
                             : cache_->getBlobToFile(digest, temporary);
    try {
      if (got.isOk()) {
        LocalStore::StagedBlob blob =
            small ? store.stageBytes(bytes) : store.stageFile(temporary);
        std::lock_guard lock(stagedMutex);
        staged.push_back(blob);
        if (blob.digest != digest) {
          got = RemoteResult::error("downloaded file changed on disk");
        }
      }
    } catch (const std::exception& exception) {
      got = RemoteResult::error(exception.what());
    }
    if (!small) {
      ::unlink(temporary.c_str());
    }
    return got;
  };
  parallelFor(
      needed.size(),
      [&](std::size_t i) {
        if (failed || store.hasBlob(needed[i])) {
          return;
        }
        RemoteResult got = downloadAndStage(needed[i]);
        if (!got.isOk() && !failed.exchange(true)) {
          std::lock_guard lock(reasonMutex);
          *reason =
              "blob " + needed[i].hex() + " unavailable: " +
              (got.message().empty() ? "not on the server" : got.message());
        }
      },
      downloadPool());
  if (failed) {
    for (const auto& blob : staged) {
      ::unlink(blob.temporary.c_str());
    }
    return false;
  }
  try {
    store.commitBlobs(staged);
  } catch (const std::exception& error) {
    *reason = error.what();
    return false;
  }
  store.putBytes(manifestText);
  store.putAction(key, recordText);
  return true;
}

void RemoteSteps::upload(const Step& step, const std::string& key,
                         const TreeManifest& manifest,
                         const std::string& manifestText,
                         const std::string& log,
                         const std::string& recordText) {
  if (!uploader_ || !cache_->available()) {
    return;
  }
  UploadJob job;
  if (!parseDigest(key, &job.actionKey)) {
    return;
  }
  for (const auto& entry : manifest.entries) {
    if (entry.type == EntryType::kFile) {
      job.blobs.push_back(
          UploadBlob::fromFile(entry.digest, step.repoRoot / entry.path));
    }
  }
  job.blobs.push_back(
      UploadBlob::fromBytes(sha256(manifestText), manifestText));
  job.blobs.push_back(UploadBlob::fromBytes(sha256(log), log));
  Digest recordDigest = sha256(recordText);
  job.blobs.push_back(UploadBlob::fromBytes(recordDigest, recordText));
  job.entry.manifest = recordDigest;
  job.entry.manifestSize = recordText.size();
  uploader_->submit(std::move(job));
}

std::string RemoteSteps::finish() {
  if (!uploader_) {
    return {};
  }
  return uploader_->flush().summary();
}

}  // namespace kiln
