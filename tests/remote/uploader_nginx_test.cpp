#include <catch2/catch.hpp>

#include <sstream>

#include "cache/remote/http_remote_cache.h"
#include "cache/remote/uploader.h"
#include "tests/common/test_support.h"
#include "tests/common/nginx_cache.h"

using namespace kiln;
namespace fs = std::filesystem;

namespace {

RemoteCacheOptions optionsFor(const std::string& url) {
  RemoteCacheOptions options;
  options.url = url;
  options.bearerToken = "";
  options.netrcPath = "/nonexistent";
  return options;
}

// Jobs with two output files each (read from disk) and an in-memory
// manifest. Jobs 0 and 1 share one output.
std::vector<UploadJob> makeJobs(const fs::path& dir, int count) {
  std::vector<UploadJob> jobs;
  for (int i = 0; i < count; ++i) {
    UploadJob job;
    job.actionKey = sha256("action " + std::to_string(i));
    std::string shared =
        i < 2 ? "shared output" : "output " + std::to_string(i);
    std::string own = std::string(5000 + i, static_cast<char>('a' + i % 26));
    fs::path sharedPath = dir / ("shared" + std::to_string(i));
    fs::path ownPath = dir / ("own" + std::to_string(i));
    test::writeFile(sharedPath, shared);
    test::writeFile(ownPath, own);
    job.blobs.push_back(UploadBlob::fromFile(sha256(shared), sharedPath));
    job.blobs.push_back(UploadBlob::fromFile(sha256(own), ownPath));
    std::string manifest = "{\"step\":" + std::to_string(i) + "}";
    job.entry.manifest = sha256(manifest);
    job.entry.manifestSize = manifest.size();
    job.blobs.push_back(UploadBlob::fromBytes(job.entry.manifest, manifest));
    jobs.push_back(job);
  }
  return jobs;
}

// The position of the first access.log line that contains `text`.
std::ptrdiff_t lineOf(const std::string& log, const std::string& text) {
  std::istringstream lines(log);
  std::string line;
  for (std::ptrdiff_t index = 0; std::getline(lines, line); ++index) {
    if (line.find(text) != std::string::npos) {
      return index;
    }
  }
  return -1;
}

}  // namespace

TEST_CASE("uploader stores jobs on nginx", "[nginx][uploader]") {
  test::NginxCache nginx;
  test::TempDir dir;
  HttpRemoteCache cache(optionsFor(nginx.url()));
  std::vector<UploadJob> jobs = makeJobs(dir.path(), 6);

  UploadStats stats;
  {
    Uploader uploader(cache);
    for (const UploadJob& job : jobs) {
      uploader.submit(job);
    }
    stats = uploader.flush();
  }
  INFO(stats.summary());
  CHECK(stats.actionsUploaded == 6);
  CHECK(stats.actionsFailed == 0);
  CHECK(stats.errors.empty());
  // 6 own outputs, 5 distinct shared ones, 6 manifests. When jobs 0 and 1
  // race, the shared blob may go up twice.
  CHECK(stats.blobsUploaded + stats.blobsAlreadyPresent >= 17);

  std::string log = nginx.accessLog();
  for (const UploadJob& job : jobs) {
    RemoteActionEntry entry;
    REQUIRE(cache.getAction(job.actionKey, &entry).isOk());
    CHECK(entry.manifest == job.entry.manifest);
    std::ptrdiff_t entryLine = lineOf(log, "PUT /ac/" + job.actionKey.hex());
    REQUIRE(entryLine >= 0);
    for (const UploadBlob& blob : job.blobs) {
      CHECK(fs::exists(nginx.dataDir() / "cas" / blob.digest.hex()));
      std::ptrdiff_t blobLine = lineOf(log, "PUT /cas/" + blob.digest.hex());
      REQUIRE(blobLine >= 0);
      CHECK(blobLine < entryLine);
    }
  }

  // A second build with the same outputs uploads only the entries.
  int putsBefore = nginx.countRequests("PUT");
  {
    Uploader again(cache);
    for (const UploadJob& job : jobs) {
      again.submit(job);
    }
    UploadStats second = again.flush();
    CHECK(second.blobsUploaded == 0);
    CHECK(second.blobsAlreadyPresent >= 17);
    CHECK(second.actionsUploaded == 6);
  }
  CHECK(nginx.countRequests("PUT") - putsBefore == 6);
}

TEST_CASE("uploader with read-only cache sends no PUT", "[nginx][uploader]") {
  test::NginxCache nginx;
  test::TempDir dir;
  RemoteCacheOptions options = optionsFor(nginx.url());
  options.readOnly = true;
  HttpRemoteCache cache(options);
  Uploader uploader(cache);
  for (const UploadJob& job : makeJobs(dir.path(), 3)) {
    uploader.submit(job);
  }
  UploadStats stats = uploader.flush();
  CHECK(stats.actionsSkipped == 3);
  CHECK(stats.actionsUploaded == 0);
  CHECK(nginx.countRequests("PUT") == 0);
}

TEST_CASE("uploader reports failures after server stops", "[nginx][uploader]") {
  test::NginxCache nginx;
  test::TempDir dir;
  RemoteCacheOptions options = optionsFor(nginx.url());
  int warnings = 0;
  options.onUnavailable = [&](const std::string&) { ++warnings; };
  HttpRemoteCache cache(options);
  nginx.stop();

  Uploader uploader(cache);
  for (const UploadJob& job : makeJobs(dir.path(), 8)) {
    uploader.submit(job);
  }
  UploadStats stats = uploader.flush();
  CHECK(stats.actionsFailed == 8);
  CHECK(stats.actionsUploaded == 0);
  CHECK_FALSE(stats.errors.empty());
  CHECK(warnings == 1);
  CHECK_FALSE(cache.available());
}
