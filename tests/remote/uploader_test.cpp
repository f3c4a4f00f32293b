#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include "cache/remote/uploader.h"
#include "tests/common/test_support.h"

using namespace kiln;

namespace {

// An in-memory RemoteCache that records the order of calls, can hold PUTs
// until released, and tracks how many run at once.
class FakeCache : public RemoteCache {
 public:
  RemoteResult getAction(const Digest&, RemoteActionEntry*) override {
    return RemoteResult::miss();
  }
  RemoteResult putAction(const Digest& key, const RemoteActionEntry&) override {
    record("ac " + key.hex().substr(0, 8));
    std::lock_guard lock(mutex_);
    actions_.insert(key);
    return failAction ? RemoteResult::error("entry rejected")
                      : RemoteResult::ok();
  }
  RemoteResult hasBlob(const Digest& digest) override {
    record("head " + digest.hex().substr(0, 8));
    std::lock_guard lock(mutex_);
    return blobs_.count(digest) ? RemoteResult::ok() : RemoteResult::miss();
  }
  RemoteResult getBlobToFile(const Digest&,
                             const std::filesystem::path&) override {
    return RemoteResult::miss();
  }
  RemoteResult getBlobBytes(const Digest&, std::string*) override {
    return RemoteResult::miss();
  }
  RemoteResult putBlobFile(const Digest& digest,
                           const std::filesystem::path& path) override {
    return put(digest, test::readText(path));
  }
  RemoteResult putBlobBytes(const Digest& digest,
                            std::string_view bytes) override {
    return put(digest, std::string(bytes));
  }
  bool available() const override { return availableFlag; }
  std::string unavailableReason() const override { return {}; }

  void addBlob(const Digest& digest) {
    std::lock_guard lock(mutex_);
    blobs_.insert(digest);
  }
  bool hasStoredBlob(const Digest& digest) {
    std::lock_guard lock(mutex_);
    return blobs_.count(digest) != 0;
  }
  std::vector<std::string> calls() {
    std::lock_guard lock(mutex_);
    return calls_;
  }
  int maxInFlight() {
    std::lock_guard lock(mutex_);
    return maxInFlight_;
  }
  int putCount() {
    std::lock_guard lock(mutex_);
    return puts_;
  }
  void hold() {
    std::lock_guard lock(mutex_);
    held_ = true;
  }
  void release() {
    {
      std::lock_guard lock(mutex_);
      held_ = false;
    }
    released_.notify_all();
  }

  std::uint64_t skipAbove = ~0ull;  // putBlob returns kSkipped above this
  bool failBlobs = false;
  bool failAction = false;
  std::atomic<bool> availableFlag{true};

 private:
  RemoteResult put(const Digest& digest, const std::string& bytes) {
    record("put " + digest.hex().substr(0, 8));
    if (bytes.size() > skipAbove) {
      return RemoteResult::skipped("too large");
    }
    if (failBlobs) {
      return RemoteResult::error("PUT failed with HTTP 507");
    }
    std::unique_lock lock(mutex_);
    ++puts_;
    ++inFlight_;
    maxInFlight_ = std::max(maxInFlight_, inFlight_);
    released_.wait_for(lock, std::chrono::seconds(20), [&] { return !held_; });
    // Stay in flight briefly so that concurrent PUTs overlap.
    lock.unlock();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    lock.lock();
    --inFlight_;
    blobs_.insert(digest);
    return RemoteResult::ok();
  }
  void record(const std::string& call) {
    std::lock_guard lock(mutex_);
    calls_.push_back(call);
  }

  std::mutex mutex_;
  std::condition_variable released_;
  bool held_ = false;
  std::set<Digest> blobs_;
  std::set<Digest> actions_;
  std::vector<std::string> calls_;
  int inFlight_ = 0;
  int maxInFlight_ = 0;
  int puts_ = 0;
};

UploadJob jobWithBlobs(const std::string& name,
                       const std::vector<std::string>& contents) {
  UploadJob job;
  job.actionKey = sha256("action " + name);
  std::string manifest = "manifest of " + name;
  job.entry.manifest = sha256(manifest);
  job.entry.manifestSize = manifest.size();
  for (const std::string& content : contents) {
    job.blobs.push_back(UploadBlob::fromBytes(sha256(content), content));
  }
  job.blobs.push_back(UploadBlob::fromBytes(job.entry.manifest, manifest));
  return job;
}

std::ptrdiff_t indexOf(const std::vector<std::string>& calls,
                       const std::string& call) {
  auto found = std::find(calls.begin(), calls.end(), call);
  return found == calls.end() ? -1 : found - calls.begin();
}

}  // namespace

TEST_CASE("uploader sends blobs before the entry", "[uploader]") {
  FakeCache cache;
  UploadJob job = jobWithBlobs("a", {"one", "two"});
  Uploader uploader(cache);
  uploader.submit(job);
  UploadStats stats = uploader.flush();

  std::vector<std::string> calls = cache.calls();
  std::ptrdiff_t entry =
      indexOf(calls, "ac " + job.actionKey.hex().substr(0, 8));
  REQUIRE(entry >= 0);
  for (const UploadBlob& blob : job.blobs) {
    std::ptrdiff_t put =
        indexOf(calls, "put " + blob.digest.hex().substr(0, 8));
    REQUIRE(put >= 0);
    CHECK(put < entry);
  }
  CHECK(stats.actionsUploaded == 1);
  CHECK(stats.blobsUploaded == 3);
  CHECK(stats.bytesUploaded == 3 + 3 + std::string("manifest of a").size());
  CHECK(stats.actionsFailed == 0);
  CHECK(stats.summary() == "uploaded 1 action entry and 3 blobs (19 B)");
}

TEST_CASE("uploader skips blobs the server has", "[uploader]") {
  FakeCache cache;
  cache.addBlob(sha256("one"));
  Uploader uploader(cache);
  uploader.submit(jobWithBlobs("a", {"one", "two"}));
  UploadStats first = uploader.flush();
  CHECK(first.blobsAlreadyPresent == 1);
  CHECK(first.blobsUploaded == 2);

  // A later job with the same blob needs neither HEAD nor PUT for it.
  std::size_t callsBefore = cache.calls().size();
  uploader.submit(jobWithBlobs("b", {"two"}));
  UploadStats second = uploader.flush();
  std::vector<std::string> calls = cache.calls();
  std::vector<std::string> newCalls(calls.begin() + callsBefore, calls.end());
  CHECK(indexOf(newCalls, "head " + sha256("two").hex().substr(0, 8)) == -1);
  CHECK(second.blobsUploaded == 3);
  CHECK(second.actionsUploaded == 2);
}

TEST_CASE("uploader withholds entry after blob failure", "[uploader]") {
  FakeCache cache;
  cache.failBlobs = true;
  Uploader uploader(cache);
  UploadJob job = jobWithBlobs("a", {"one"});
  uploader.submit(job);
  UploadStats stats = uploader.flush();
  CHECK(stats.actionsFailed == 1);
  CHECK(stats.actionsUploaded == 0);
  REQUIRE(stats.errors.size() == 1);
  CHECK_THAT(stats.errors[0], Catch::Contains("HTTP 507"));
  CHECK(indexOf(cache.calls(), "ac " + job.actionKey.hex().substr(0, 8)) == -1);
  CHECK_THAT(stats.summary(), Catch::EndsWith(", 1 failed"));
}

TEST_CASE("uploader skips entry with oversized blob", "[uploader]") {
  FakeCache cache;
  cache.skipAbove = 5;
  Uploader uploader(cache);
  UploadJob job = jobWithBlobs("a", {"a blob of more than five bytes"});
  uploader.submit(job);
  UploadStats stats = uploader.flush();
  CHECK(stats.actionsSkipped == 1);
  CHECK(stats.actionsFailed == 0);
  CHECK(stats.errors.empty());
  CHECK(indexOf(cache.calls(), "ac " + job.actionKey.hex().substr(0, 8)) == -1);
}

TEST_CASE("uploader counts a failed entry", "[uploader]") {
  FakeCache cache;
  cache.failAction = true;
  Uploader uploader(cache);
  uploader.submit(jobWithBlobs("a", {"one"}));
  UploadStats stats = uploader.flush();
  CHECK(stats.actionsFailed == 1);
  CHECK(stats.blobsUploaded == 2);
  REQUIRE_FALSE(stats.errors.empty());
  CHECK(stats.errors[0] == "entry rejected");
}

TEST_CASE("uploader reads files by path", "[uploader]") {
  test::TempDir dir;
  test::writeFile(dir / "out.bin", "file content");
  FakeCache cache;
  Uploader uploader(cache);
  UploadJob job = jobWithBlobs("a", {});
  job.blobs.insert(
      job.blobs.begin(),
      UploadBlob::fromFile(sha256("file content"), dir / "out.bin"));
  uploader.submit(job);
  UploadStats stats = uploader.flush();
  CHECK(stats.blobsUploaded == 2);
  CHECK(stats.bytesUploaded == 12 + std::string("manifest of a").size());
  CHECK(cache.hasStoredBlob(sha256("file content")));
}

TEST_CASE("uploader bounds concurrent uploads", "[uploader]") {
  FakeCache cache;
  UploaderOptions options;
  options.concurrency = 3;
  Uploader uploader(cache, options);
  for (int i = 0; i < 24; ++i) {
    uploader.submit(
        jobWithBlobs(std::to_string(i), {"blob " + std::to_string(i)}));
  }
  UploadStats stats = uploader.flush();
  CHECK(stats.actionsUploaded == 24);
  CHECK(cache.maxInFlight() <= 3);
  CHECK(cache.maxInFlight() >= 2);
}

TEST_CASE("uploader submit waits at byte limit", "[uploader]") {
  FakeCache cache;
  cache.hold();
  UploaderOptions options;
  options.concurrency = 1;
  options.maxQueuedBytes = 100;
  Uploader uploader(cache, options);

  // The worker takes the first job and blocks in its PUT, and the second job
  // fills the queue to its limit, so the third submit must wait.
  uploader.submit(jobWithBlobs("first", {std::string(60, 'a')}));
  uploader.submit(jobWithBlobs("second", {std::string(60, 'b')}));
  std::atomic<bool> thirdQueued{false};
  std::thread submitter([&] {
    uploader.submit(jobWithBlobs("third", {std::string(60, 'c')}));
    thirdQueued = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  CHECK_FALSE(thirdQueued);

  cache.release();
  submitter.join();
  CHECK(thirdQueued);
  UploadStats stats = uploader.flush();
  CHECK(stats.actionsUploaded == 3);
}

TEST_CASE("uploader submit waits at job limit", "[uploader]") {
  FakeCache cache;
  cache.hold();
  UploaderOptions options;
  options.concurrency = 1;
  options.maxQueuedJobs = 1;
  Uploader uploader(cache, options);

  uploader.submit(jobWithBlobs("first", {"a"}));
  // Wait until the worker has taken the first job out of the queue.
  for (int i = 0; i < 200 && cache.calls().empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  uploader.submit(jobWithBlobs("second", {"b"}));
  std::atomic<bool> thirdQueued{false};
  std::thread submitter([&] {
    uploader.submit(jobWithBlobs("third", {"c"}));
    thirdQueued = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  CHECK_FALSE(thirdQueued);
  cache.release();
  submitter.join();
  CHECK(uploader.flush().actionsUploaded == 3);
}

TEST_CASE("uploader fails jobs at once when unavailable", "[uploader]") {
  FakeCache cache;
  cache.availableFlag = false;
  Uploader uploader(cache);
  for (int i = 0; i < 5; ++i) {
    uploader.submit(jobWithBlobs(std::to_string(i), {"x"}));
  }
  UploadStats stats = uploader.flush();
  CHECK(stats.actionsFailed == 5);
  CHECK(cache.calls().empty());
}

TEST_CASE("uploader destructor waits for queued jobs", "[uploader]") {
  FakeCache cache;
  {
    Uploader uploader(cache);
    for (int i = 0; i < 8; ++i) {
      uploader.submit(jobWithBlobs(std::to_string(i), {"y"}));
    }
  }
  CHECK(cache.putCount() >= 9);
}
