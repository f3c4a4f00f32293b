#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "cache/remote/remote_cache.h"

namespace kiln {

/// A blob to upload: a file, read only when its turn comes, or bytes held
/// in memory (a small manifest).
struct UploadBlob {
  Digest digest;
  std::filesystem::path path;  // used when inMemory is false
  std::string bytes;           // used when inMemory is true
  bool inMemory = false;

  static UploadBlob fromFile(const Digest& digest, std::filesystem::path path);
  static UploadBlob fromBytes(const Digest& digest, std::string bytes);
};

/// One action entry and the blobs it references, the manifest among them.
/// The uploader stores the entry only after every blob is on the server.
struct UploadJob {
  Digest actionKey;
  RemoteActionEntry entry;
  std::vector<UploadBlob> blobs;
};

/// Totals of an uploader's work, for the end-of-build report.
struct UploadStats {
  std::uint64_t actionsUploaded = 0;
  std::uint64_t actionsSkipped = 0;  // read-only, or a blob over the limit
  std::uint64_t actionsFailed = 0;   // a request failed, so no entry stored
  std::uint64_t blobsUploaded = 0;
  std::uint64_t blobsAlreadyPresent = 0;  // found by HEAD, not sent again
  std::uint64_t bytesUploaded = 0;
  std::vector<std::string> errors;  // the first kMaxErrors messages

  static constexpr std::size_t kMaxErrors = 10;

  /// One line for the user, such as "uploaded 3 action entries and 7 blobs
  /// (1.2 MiB), 2 blobs already present, 1 entry failed".
  std::string summary() const;
};

/// Limits of an Uploader.
struct UploaderOptions {
  unsigned concurrency = 4;  // worker threads, so uploads in flight
  /// submit() waits while the jobs queued or in progress hold more than
  /// this many bytes in memory. Only in-memory blobs count, because files
  /// are queued by path.
  /// A single job larger than this is admitted once the queue is empty.
  std::uint64_t maxQueuedBytes = 64ull << 20;
  /// submit() also waits while this many jobs are queued.
  std::size_t maxQueuedJobs = 1024;
};

/// Uploads action entries and their blobs to a remote cache on background
/// threads while the build goes on. Each job's blobs go first, skipping
/// those the server already has (HEAD), then its action entry. Once the
/// cache turns unavailable, queued jobs fail at once without requests.
class Uploader {
 public:
  Uploader(RemoteCache& cache, UploaderOptions options = {});
  /// Waits for queued jobs (as flush() does) and stops the threads.
  ~Uploader();
  Uploader(const Uploader&) = delete;
  Uploader& operator=(const Uploader&) = delete;

  /// Queues a job, waiting while the queue is at one of its limits.
  void submit(UploadJob job);

  /// Waits until every submitted job is done and returns the totals so far.
  UploadStats flush();

 private:
  void runWorker();
  void process(const UploadJob& job, UploadStats* stats);
  bool uploadBlob(const UploadBlob& blob, UploadStats* stats, bool* skipped);
  bool knownPresent(const Digest& digest);
  void rememberPresent(const Digest& digest);
  static std::uint64_t memoryOf(const UploadJob& job);

  RemoteCache& cache_;
  UploaderOptions options_;

  std::mutex mutex_;
  std::condition_variable workAvailable_;
  std::condition_variable spaceOrIdle_;
  std::deque<UploadJob> queue_;
  std::uint64_t queuedBytes_ = 0;
  unsigned active_ = 0;
  bool stopping_ = false;
  UploadStats stats_;

  std::mutex presentMutex_;
  std::set<Digest> present_;  // blobs this uploader saw on the server

  std::vector<std::thread> workers_;
};

}  // namespace kiln
