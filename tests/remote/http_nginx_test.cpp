#include <catch2/catch.hpp>

#include <chrono>

#include "cache/remote/http_remote_cache.h"
#include "tests/common/test_support.h"
#include "tests/common/nginx_cache.h"

using namespace kiln;
namespace fs = std::filesystem;

namespace {

RemoteCacheOptions optionsFor(const std::string& url) {
  RemoteCacheOptions options;
  options.url = url;
  options.bearerToken = "";            // ignore KILN_REMOTE_CACHE_TOKEN
  options.netrcPath = "/nonexistent";  // ignore the user's ~/.netrc
  return options;
}

RemoteActionEntry entryFor(const std::string& manifest) {
  RemoteActionEntry entry;
  entry.manifest = sha256(manifest);
  entry.manifestSize = manifest.size();
  return entry;
}

bool hasTemporaryFiles(const fs::path& dir) {
  for (const auto& item : fs::directory_iterator(dir)) {
    if (item.path().filename().string().find(".tmp.") != std::string::npos) {
      return true;
    }
  }
  return false;
}

}  // namespace

TEST_CASE("nginx cache blob and entry round trip", "[nginx]") {
  test::NginxCache nginx;
  HttpRemoteCache cache(optionsFor(nginx.url()));
  test::TempDir dir;

  std::string content = "compiled output\n";
  Digest digest = sha256(content);
  CHECK(cache.hasBlob(digest).isMiss());
  REQUIRE(cache.putBlobBytes(digest, content).isOk());
  CHECK(cache.hasBlob(digest).isOk());
  CHECK(test::readText(nginx.dataDir() / "cas" / digest.hex()) == content);

  std::string bytes;
  REQUIRE(cache.getBlobBytes(digest, &bytes).isOk());
  CHECK(bytes == content);
  REQUIRE(cache.getBlobToFile(digest, dir / "sub" / "restored").isOk());
  CHECK(test::readText(dir / "sub" / "restored") == content);
  CHECK_FALSE(hasTemporaryFiles(dir / "sub"));

  // A file larger than one libcurl buffer goes up in several reads.
  std::string large(3 * 1024 * 1024 + 17, 'q');
  test::writeFile(dir / "large.bin", large);
  Digest largeDigest = sha256(large);
  REQUIRE(cache.putBlobFile(largeDigest, dir / "large.bin").isOk());
  CHECK(fs::file_size(nginx.dataDir() / "cas" / largeDigest.hex()) ==
        large.size());
  REQUIRE(cache.getBlobToFile(largeDigest, dir / "large.out").isOk());
  CHECK(test::readText(dir / "large.out") == large);

  Digest key = sha256("action key");
  RemoteActionEntry entry = entryFor(content);
  REQUIRE(cache.putAction(key, entry).isOk());
  RemoteActionEntry fetched;
  REQUIRE(cache.getAction(key, &fetched).isOk());
  CHECK(fetched == entry);
  CHECK(cache.available());
}

TEST_CASE("nginx cache empty blob round trip", "[nginx]") {
  test::NginxCache nginx;
  HttpRemoteCache cache(optionsFor(nginx.url()));
  test::TempDir dir;
  test::writeFile(dir / "empty", "");
  REQUIRE(cache.putBlobFile(sha256(""), dir / "empty").isOk());
  std::string bytes = "stale";
  REQUIRE(cache.getBlobBytes(sha256(""), &bytes).isOk());
  CHECK(bytes.empty());
}

TEST_CASE("nginx cache miss is a miss", "[nginx]") {
  test::NginxCache nginx;
  HttpRemoteCache cache(optionsFor(nginx.url()));
  test::TempDir dir;

  RemoteActionEntry entry;
  RemoteResult action = cache.getAction(sha256("unknown"), &entry);
  CHECK(action.isMiss());
  CHECK(cache.hasBlob(sha256("unknown")).isMiss());
  std::string bytes;
  CHECK(cache.getBlobBytes(sha256("unknown"), &bytes).isMiss());
  CHECK(cache.getBlobToFile(sha256("unknown"), dir / "out").isMiss());
  CHECK_FALSE(fs::exists(dir / "out"));
  CHECK_FALSE(hasTemporaryFiles(dir.path()));
  CHECK(cache.available());
}

TEST_CASE("nginx cache instance name maps to a subfolder", "[nginx]") {
  test::NginxCache nginx;
  HttpRemoteCache team(optionsFor(nginx.url("team1")));
  HttpRemoteCache plain(optionsFor(nginx.url()));

  Digest digest = sha256("team blob");
  REQUIRE(team.putBlobBytes(digest, "team blob").isOk());
  Digest key = sha256("team action");
  REQUIRE(team.putAction(key, entryFor("team blob")).isOk());

  CHECK(fs::exists(nginx.dataDir() / "team1" / "cas" / digest.hex()));
  CHECK(fs::exists(nginx.dataDir() / "team1" / "ac" / key.hex()));
  CHECK_FALSE(fs::exists(nginx.dataDir() / "cas" / digest.hex()));
  CHECK(plain.hasBlob(digest).isMiss());
  RemoteActionEntry entry;
  CHECK(plain.getAction(key, &entry).isMiss());
  CHECK(team.getAction(key, &entry).isOk());
  CHECK_THAT(nginx.accessLog(),
             Catch::Contains("\"PUT /team1/ac/" + key.hex() + " HTTP/1.1\""));
}

TEST_CASE("nginx cache read-only sends no PUT", "[nginx]") {
  test::NginxCache nginx;
  RemoteCacheOptions options = optionsFor(nginx.url());
  options.readOnly = true;
  HttpRemoteCache cache(options);
  test::TempDir dir;
  test::writeFile(dir / "blob", "blob");

  CHECK(cache.putBlobBytes(sha256("blob"), "blob").isSkipped());
  CHECK(cache.putBlobFile(sha256("blob"), dir / "blob").isSkipped());
  CHECK(cache.putAction(sha256("k"), entryFor("blob")).isSkipped());
  CHECK(cache.hasBlob(sha256("blob")).isMiss());

  CHECK(nginx.countRequests("PUT") == 0);
  CHECK(nginx.countRequests("HEAD") == 1);
}

TEST_CASE("nginx cache skips blobs over the size limit", "[nginx]") {
  test::NginxCache nginx;
  RemoteCacheOptions options = optionsFor(nginx.url());
  options.maxEntrySize = 10;
  HttpRemoteCache cache(options);
  test::TempDir dir;
  test::writeFile(dir / "big", "eleven byte");

  RemoteResult bytes = cache.putBlobBytes(sha256("eleven byte"), "eleven byte");
  CHECK(bytes.isSkipped());
  CHECK_THAT(bytes.message(), Catch::Contains("over the upload limit of 10 B"));
  CHECK(cache.putBlobFile(sha256("eleven byte"), dir / "big").isSkipped());
  CHECK(cache.putBlobBytes(sha256("ten bytes!"), "ten bytes!").isOk());
  CHECK(nginx.countRequests("PUT") == 1);
}

TEST_CASE("tampered nginx blob is digest mismatch", "[nginx]") {
  test::NginxCache nginx;
  HttpRemoteCache cache(optionsFor(nginx.url()));
  test::TempDir dir;

  std::string content = "original content";
  Digest digest = sha256(content);
  REQUIRE(cache.putBlobBytes(digest, content).isOk());
  test::writeFile(nginx.dataDir() / "cas" / digest.hex(), "tampered content");

  RemoteResult toFile = cache.getBlobToFile(digest, dir / "restored");
  CHECK(toFile.isError());
  CHECK_THAT(toFile.message(), Catch::Contains("SHA-256 mismatch"));
  CHECK_THAT(toFile.message(), Catch::Contains(digest.hex()));
  CHECK_FALSE(fs::exists(dir / "restored"));
  CHECK_FALSE(hasTemporaryFiles(dir.path()));

  // After a mismatch the blob counts as missing, so the next upload
  // replaces the server's corrupt copy.
  CHECK(cache.hasBlob(digest).isMiss());
  REQUIRE(cache.putBlobBytes(digest, content).isOk());
  CHECK(test::readText(nginx.dataDir() / "cas" / digest.hex()) == content);

  // An existing file at the destination is left as it was.
  test::writeFile(nginx.dataDir() / "cas" / digest.hex(), "tampered content");
  test::writeFile(dir / "existing", "keep me");
  CHECK(cache.getBlobToFile(digest, dir / "existing").isError());
  CHECK(test::readText(dir / "existing") == "keep me");

  std::string bytes;
  RemoteResult toBytes = cache.getBlobBytes(digest, &bytes);
  CHECK(toBytes.isError());
  CHECK(bytes.empty());
  // Corrupt data is not an outage.
  CHECK(cache.available());
}

TEST_CASE("nginx cache upload aborts on a wrong digest", "[nginx]") {
  test::NginxCache nginx;
  HttpRemoteCache cache(optionsFor(nginx.url()));
  test::TempDir dir;
  test::writeFile(dir / "blob", std::string(200000, 'z'));
  Digest wrong = sha256("something else");

  RemoteResult result = cache.putBlobFile(wrong, dir / "blob");
  CHECK(result.isError());
  CHECK_THAT(result.message(), Catch::Contains("does not match its digest"));
  CHECK_FALSE(fs::exists(nginx.dataDir() / "cas" / wrong.hex()));

  RemoteResult bytes = cache.putBlobBytes(wrong, "other bytes");
  CHECK(bytes.isError());
  CHECK_FALSE(fs::exists(nginx.dataDir() / "cas" / wrong.hex()));
  CHECK(cache.available());
}

TEST_CASE("stopped nginx makes cache unavailable", "[nginx]") {
  test::NginxCache nginx;
  std::string url = nginx.url();
  nginx.stop();

  RemoteCacheOptions options = optionsFor(url);
  int warnings = 0;
  std::string warned;
  options.onUnavailable = [&](const std::string& reason) {
    ++warnings;
    warned = reason;
  };
  HttpRemoteCache cache(options);

  auto start = std::chrono::steady_clock::now();
  RemoteActionEntry entry;
  RemoteResult first = cache.getAction(sha256("k"), &entry);
  auto elapsed = std::chrono::steady_clock::now() - start;
  CHECK(first.isError());
  CHECK_THAT(first.message(), Catch::Contains("3 attempts"));
  // Two retries with 200 ms and 400 ms backoff against a closed port.
  CHECK(elapsed < std::chrono::seconds(2));
  CHECK_FALSE(cache.available());
  CHECK_THAT(cache.unavailableReason(), Catch::Contains("cannot reach " + url));

  start = std::chrono::steady_clock::now();
  RemoteResult second = cache.hasBlob(sha256("x"));
  CHECK(std::chrono::steady_clock::now() - start <
        std::chrono::milliseconds(50));
  CHECK(second.isError());
  CHECK_THAT(second.message(), Catch::Contains("is unavailable"));
  CHECK(cache.putBlobBytes(sha256("x"), "x").isError());
  CHECK(warnings == 1);
  CHECK(warned == cache.unavailableReason());
}

TEST_CASE("nginx cache basic auth from a netrc file", "[nginx][auth]") {
  const std::string password = "s3cret-Pass";
  test::NginxCache nginx("bob:" + password);
  test::TempDir dir;
  Digest digest = sha256("secret blob");

  SECTION("no credentials gets 401") {
    HttpRemoteCache cache(optionsFor(nginx.url()));
    RemoteResult result = cache.putBlobBytes(digest, "secret blob");
    CHECK(result.isError());
    CHECK_THAT(result.message(), Catch::Contains("HTTP 401"));
    CHECK_FALSE(cache.available());
    CHECK_THAT(cache.unavailableReason(), Catch::Contains("credentials"));
  }

  SECTION("wrong password is rejected and never shown") {
    const std::string wrong = "wrong-Pass-77";
    test::writeFile(dir / "netrc",
                    "machine 127.0.0.1 login bob password " + wrong + "\n");
    RemoteCacheOptions options = optionsFor(nginx.url());
    options.netrcPath = dir / "netrc";
    HttpRemoteCache cache(options);
    CHECK(cache.credentialSource() ==
          "user bob from " + (dir / "netrc").string());
    RemoteResult result = cache.hasBlob(digest);
    CHECK(result.isError());
    CHECK_THAT(result.message(), Catch::Contains("HTTP 401"));
    CHECK(result.message().find(wrong) == std::string::npos);
    CHECK(cache.unavailableReason().find(wrong) == std::string::npos);
  }

  SECTION("netrc credentials reach nginx") {
    test::writeFile(
        dir / "netrc",
        "machine 127.0.0.1\n  login bob\n  password " + password + "\n");
    RemoteCacheOptions options = optionsFor(nginx.url());
    options.netrcPath = dir / "netrc";
    HttpRemoteCache cache(options);
    REQUIRE(cache.putBlobBytes(digest, "secret blob").isOk());
    std::string bytes;
    REQUIRE(cache.getBlobBytes(digest, &bytes).isOk());
    CHECK(bytes == "secret blob");
    CHECK_THAT(nginx.accessLog(),
               Catch::Contains("- bob [") && Catch::Contains("\"PUT /cas/"));
  }

  SECTION("NETRC variable names the file") {
    test::writeFile(dir / "netrc-env",
                    "default login bob password " + password + "\n");
    ::setenv("NETRC", (dir / "netrc-env").c_str(), 1);
    RemoteCacheOptions options = optionsFor(nginx.url());
    options.netrcPath.reset();
    HttpRemoteCache cache(options);
    ::unsetenv("NETRC");
    CHECK(cache.putBlobBytes(digest, "secret blob").isOk());
  }

  SECTION("userinfo in the URL is used and hidden") {
    std::string url =
        "http://bob:" + password + "@127.0.0.1:" + std::to_string(nginx.port());
    HttpRemoteCache cache(optionsFor(url));
    CHECK(cache.url().display().find(password) == std::string::npos);
    REQUIRE(cache.putBlobBytes(digest, "secret blob").isOk());

    std::string wrongUrl =
        "http://bob:nope-Pass-12@127.0.0.1:" + std::to_string(nginx.port());
    HttpRemoteCache rejected(optionsFor(wrongUrl));
    RemoteResult result = rejected.hasBlob(digest);
    CHECK(result.isError());
    CHECK(result.message().find("nope-Pass-12") == std::string::npos);
    CHECK(rejected.unavailableReason().find("nope-Pass-12") ==
          std::string::npos);
  }
}
