#include "cache/remote/uploader.h"

#include <system_error>

#include "util/strings.h"

namespace kiln {

namespace {

// The set of blobs known to be on the server is cleared past this size, so
// that a long session does not grow it without bound.
constexpr std::size_t kMaxRememberedBlobs = 1 << 20;

void recordError(UploadStats* stats, const std::string& message) {
  if (stats->errors.size() < UploadStats::kMaxErrors) {
    stats->errors.push_back(message);
  }
}

void merge(UploadStats* total, const UploadStats& part) {
  total->actionsUploaded += part.actionsUploaded;
  total->actionsSkipped += part.actionsSkipped;
  total->actionsFailed += part.actionsFailed;
  total->blobsUploaded += part.blobsUploaded;
  total->blobsAlreadyPresent += part.blobsAlreadyPresent;
  total->bytesUploaded += part.bytesUploaded;
  for (const std::string& error : part.errors) {
    recordError(total, error);
  }
}

std::string countOf(std::uint64_t count, const std::string& singular,
                    const std::string& plural) {
  return std::to_string(count) + " " + (count == 1 ? singular : plural);
}

}  // namespace

UploadBlob UploadBlob::fromFile(const Digest& digest,
                                std::filesystem::path path) {
  UploadBlob blob;
  blob.digest = digest;
  blob.path = std::move(path);
  return blob;
}

UploadBlob UploadBlob::fromBytes(const Digest& digest, std::string bytes) {
  UploadBlob blob;
  blob.digest = digest;
  blob.bytes = std::move(bytes);
  blob.inMemory = true;
  return blob;
}

std::string UploadStats::summary() const {
  std::string text =
      "uploaded " + countOf(actionsUploaded, "action entry", "action entries") +
      " and " + countOf(blobsUploaded, "blob", "blobs") + " (" +
      formatBytes(bytesUploaded) + ")";
  if (blobsAlreadyPresent > 0) {
    text += ", " + countOf(blobsAlreadyPresent, "blob", "blobs") +
            " already present";
  }
  if (actionsSkipped > 0) {
    text += ", " + std::to_string(actionsSkipped) + " skipped";
  }
  if (actionsFailed > 0) {
    text += ", " + std::to_string(actionsFailed) + " failed";
  }
  return text;
}

Uploader::Uploader(RemoteCache& cache, UploaderOptions options)
    : cache_(cache), options_(options) {
  unsigned count = options_.concurrency == 0 ? 1 : options_.concurrency;
  for (unsigned i = 0; i < count; ++i) {
    workers_.emplace_back([this] { runWorker(); });
  }
}

Uploader::~Uploader() {
  flush();
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  workAvailable_.notify_all();
  for (std::thread& worker : workers_) {
    worker.join();
  }
}

std::uint64_t Uploader::memoryOf(const UploadJob& job) {
  std::uint64_t bytes = 0;
  for (const UploadBlob& blob : job.blobs) {
    bytes += blob.inMemory ? blob.bytes.size() : 0;
  }
  return bytes;
}

void Uploader::submit(UploadJob job) {
  std::uint64_t memory = memoryOf(job);
  std::unique_lock lock(mutex_);
  spaceOrIdle_.wait(lock, [&] {
    bool fits =
        queue_.empty() || queuedBytes_ + memory <= options_.maxQueuedBytes;
    return fits && queue_.size() < options_.maxQueuedJobs;
  });
  queuedBytes_ += memory;
  queue_.push_back(std::move(job));
  lock.unlock();
  workAvailable_.notify_one();
}

UploadStats Uploader::flush() {
  std::unique_lock lock(mutex_);
  spaceOrIdle_.wait(lock, [&] { return queue_.empty() && active_ == 0; });
  return stats_;
}

void Uploader::runWorker() {
  while (true) {
    std::unique_lock lock(mutex_);
    workAvailable_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) {
      return;  // stopping, and nothing left
    }
    UploadJob job = std::move(queue_.front());
    queue_.pop_front();
    ++active_;
    lock.unlock();
    // A shorter queue may admit a waiting submitter.
    spaceOrIdle_.notify_all();

    UploadStats part;
    process(job, &part);

    lock.lock();
    merge(&stats_, part);
    queuedBytes_ -= memoryOf(job);
    --active_;
    lock.unlock();
    spaceOrIdle_.notify_all();
  }
}

bool Uploader::knownPresent(const Digest& digest) {
  std::lock_guard lock(presentMutex_);
  return present_.count(digest) != 0;
}

void Uploader::rememberPresent(const Digest& digest) {
  std::lock_guard lock(presentMutex_);
  if (present_.size() >= kMaxRememberedBlobs) {
    present_.clear();
  }
  present_.insert(digest);
}

bool Uploader::uploadBlob(const UploadBlob& blob, UploadStats* stats,
                          bool* skipped) {
  if (knownPresent(blob.digest)) {
    return true;
  }
  RemoteResult head = cache_.hasBlob(blob.digest);
  if (head.isOk()) {
    ++stats->blobsAlreadyPresent;
    rememberPresent(blob.digest);
    return true;
  }
  if (!head.isMiss()) {
    recordError(stats, head.message());
    return false;
  }

  std::uint64_t size = blob.bytes.size();
  if (!blob.inMemory) {
    std::error_code error;
    size = std::filesystem::file_size(blob.path, error);
  }
  RemoteResult put = blob.inMemory
                         ? cache_.putBlobBytes(blob.digest, blob.bytes)
                         : cache_.putBlobFile(blob.digest, blob.path);
  if (put.isOk()) {
    ++stats->blobsUploaded;
    stats->bytesUploaded += size;
    rememberPresent(blob.digest);
    return true;
  }
  if (put.isSkipped()) {
    *skipped = true;
  } else {
    recordError(stats, put.message());
  }
  return false;
}

void Uploader::process(const UploadJob& job, UploadStats* stats) {
  if (!cache_.available()) {
    ++stats->actionsFailed;
    return;
  }
  // Blobs first: an entry whose blobs are missing is useless to readers,
  // and bazel-remote reports it as a miss.
  for (const UploadBlob& blob : job.blobs) {
    bool skipped = false;
    if (!uploadBlob(blob, stats, &skipped)) {
      ++(skipped ? stats->actionsSkipped : stats->actionsFailed);
      return;
    }
  }

  RemoteResult put = cache_.putAction(job.actionKey, job.entry);
  if (put.isOk()) {
    ++stats->actionsUploaded;
  } else if (put.isSkipped()) {
    ++stats->actionsSkipped;
  } else {
    ++stats->actionsFailed;
    recordError(stats, put.message());
  }
}

}  // namespace kiln
