#include <catch2/catch.hpp>

#include <memory>

#include "cache/remote/http_remote_cache.h"
#include "tests/common/test_support.h"
#include "tests/common/nginx_cache.h"
#include "util/atomic_file.h"

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

RemoteActionEntry entryFor(const std::string& manifest) {
  RemoteActionEntry entry;
  entry.manifest = sha256(manifest);
  entry.manifestSize = manifest.size();
  return entry;
}

}  // namespace

TEST_CASE("signed entries verify through nginx", "[nginx][signature]") {
  test::NginxCache nginx;
  auto signer = std::make_shared<SigningKey>(SigningKey::generate());
  auto trusted = std::make_shared<VerifyingKey>(signer->verifyingKey());
  auto stranger =
      std::make_shared<VerifyingKey>(SigningKey::generate().verifyingKey());

  RemoteCacheOptions writerOptions = optionsFor(nginx.url());
  writerOptions.signingKey = signer;
  HttpRemoteCache writer(writerOptions);

  RemoteCacheOptions readerOptions = optionsFor(nginx.url());
  readerOptions.verifyingKey = trusted;
  HttpRemoteCache reader(readerOptions);

  RemoteCacheOptions strangerOptions = optionsFor(nginx.url());
  strangerOptions.verifyingKey = stranger;
  HttpRemoteCache strangerReader(strangerOptions);

  Digest key = sha256("signed action");
  RemoteActionEntry entry = entryFor("manifest");
  REQUIRE(writer.putAction(key, entry).isOk());

  SECTION("trusted reader gets the entry") {
    RemoteActionEntry fetched;
    REQUIRE(reader.getAction(key, &fetched).isOk());
    CHECK(fetched.manifest == entry.manifest);
    CHECK(fetched.signature.size() == 64);
  }

  SECTION("reader with another key sees a miss") {
    RemoteActionEntry fetched;
    RemoteResult result = strangerReader.getAction(key, &fetched);
    CHECK(result.isMiss());
    CHECK_THAT(result.message(),
               Catch::Contains("not valid for key " + stranger->fingerprint()));
  }

  SECTION("entry copied under another key is a miss") {
    Digest otherKey = sha256("other action");
    fs::copy_file(nginx.dataDir() / "ac" / key.hex(),
                  nginx.dataDir() / "ac" / otherKey.hex());
    RemoteActionEntry fetched;
    CHECK(reader.getAction(otherKey, &fetched).isMiss());
    // Without a verifying key the copy would pass for a hit.
    HttpRemoteCache trusting(optionsFor(nginx.url()));
    CHECK(trusting.getAction(otherKey, &fetched).isOk());
  }

  SECTION("tampered manifest digest is a miss") {
    RemoteActionEntry forged = entry;
    forged.manifest = sha256("forged manifest");
    forged.signature = writer.url().display();  // anything but a signature
    RemoteActionEntry fetched;
    std::string bytes = test::readText(nginx.dataDir() / "ac" / key.hex());
    RemoteActionEntry stored;
    std::string error;
    REQUIRE(decodeActionResult(bytes, &stored, &error));
    stored.manifest = sha256("forged manifest");
    writeFileAtomic(nginx.dataDir() / "ac" / key.hex(),
                    encodeActionResult(stored));
    CHECK(reader.getAction(key, &fetched).isMiss());
  }

  SECTION("unsigned entry is a miss for a verifying reader") {
    HttpRemoteCache unsignedWriter(optionsFor(nginx.url()));
    Digest unsignedKey = sha256("unsigned action");
    REQUIRE(unsignedWriter.putAction(unsignedKey, entry).isOk());
    RemoteActionEntry fetched;
    RemoteResult result = reader.getAction(unsignedKey, &fetched);
    CHECK(result.isMiss());
    CHECK_THAT(result.message(), Catch::Contains("not signed"));
  }
}

TEST_CASE("corrupt action entry is an error", "[nginx]") {
  test::NginxCache nginx;
  HttpRemoteCache cache(optionsFor(nginx.url()));
  Digest key = sha256("k");
  test::writeFile(nginx.dataDir() / "ac" / key.hex(), "not a protobuf \xff");
  RemoteActionEntry fetched;
  RemoteResult result = cache.getAction(key, &fetched);
  CHECK(result.isError());
  CHECK_THAT(result.message(), Catch::Contains("invalid action entry"));
  CHECK(cache.available());
}
