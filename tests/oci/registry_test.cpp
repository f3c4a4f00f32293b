// The registry client against Debian's docker-registry and a fake server,
// all on 127.0.0.1.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/oci/auth.h"
#include "core/oci/errors.h"
#include "core/oci/registry.h"
#include "tests/common/test_support.h"
#include "tests/oci/fake_registry.h"
#include "tests/oci/oci_test_support.h"
#include "util/strings.h"

using namespace kiln::oci;
using kiln::test::run;
using kiln::test::RunResult;
using kiln::test::TempDir;
using kiln::test::writeFile;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

RegistryOptions plainHttp(const std::string& host, const fs::path& config) {
  RegistryOptions options;
  options.plainHttpRegistries = {host};
  options.dockerConfig = config;
  return options;
}

void writeDockerConfig(const fs::path& file, const std::string& host,
                       const std::string& userAndPassword) {
  writeFile(file,
            json{{"auths", {{host, {{"auth", base64Encode(userAndPassword)}}}}}}
                .dump());
}

std::string skopeoDigest(const std::string& reference,
                         const std::vector<std::string>& extra = {}) {
  std::vector<std::string> argv = {"skopeo", "inspect", "--tls-verify=false"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  argv.push_back("docker://" + reference);
  RunResult result = run(argv, "/");
  INFO(result.output);
  REQUIRE(result.exitCode == 0);
  return json::parse(result.output)["Digest"];
}

}  // namespace

TEST_CASE("push matches skopeo and skips present blobs", "[oci][integration]") {
  TempDir dir;
  test::TestRegistry registry(dir / "registry");
  Layout layout = Layout::create(dir / "layout");
  Descriptor manifest =
      test::buildAppImage(layout, "hello", Compression::gzip, "pushed");
  RegistryClient client(plainHttp(registry.host(), dir / "none.json"));
  Reference target = Reference::parse(registry.host() + "/kiln/hello:1");

  int before = registry.uploadCount();
  PushResult first = client.push(layout, "hello", target);
  int afterFirst = registry.uploadCount();
  CHECK(first.reference ==
        registry.host() + "/kiln/hello@" + digestString(manifest.digest));
  CHECK(first.blobsUploaded == 3);  // config, base layer, app layer
  CHECK(afterFirst - before == 3);
  CHECK(skopeoDigest(registry.host() + "/kiln/hello:1") ==
        digestString(manifest.digest));

  PushResult second = client.push(layout, "hello", target);
  CHECK(second.blobsUploaded == 0);
  CHECK(second.blobsPresent == 3);
  CHECK(registry.uploadCount() == afterFirst);
  CHECK(second.reference == first.reference);
}

TEST_CASE("push mounts a shared layer across repositories",
          "[oci][integration]") {
  TempDir dir;
  test::TestRegistry registry(dir / "registry");
  Layout layout = Layout::create(dir / "layout");
  Descriptor webManifest =
      test::buildAppImage(layout, "web", Compression::gzip, "web");
  Descriptor apiManifest =
      test::buildAppImage(layout, "api", Compression::gzip, "api");
  StoredImage web = layout.readImage("web");
  StoredImage api = layout.readImage("api");
  REQUIRE(web.layers.size() == 2);
  REQUIRE(api.layers.size() == 2);
  kiln::Digest shared = web.layers.front().digest;
  REQUIRE(api.layers.front().digest == shared);
  REQUIRE(api.layers.back().digest != web.layers.back().digest);
  std::string host = registry.host();

  RegistryClient client(plainHttp(host, dir / "none.json"));
  PushResult first =
      client.push(layout, "web", Reference::parse(host + "/kiln/web:1"));
  CHECK(first.blobsUploaded == 3);
  CHECK(first.blobsMounted == 0);
  PushResult second =
      client.push(layout, "api", Reference::parse(host + "/kiln/api:1"));
  CHECK(second.blobsUploaded == 2);  // config, app layer
  CHECK(second.blobsMounted == 1);   // the node20 base layer
  CHECK(second.blobsPresent == 0);
  CHECK(describeBlobs(second) ==
        "2 blobs uploaded, 1 mounted, 0 already there");
  CHECK(second.bytesUploaded ==
        api.configDescriptor.size + api.layers.back().size);
  CHECK(registry.completedUploadsOf(shared.hex()) == 1);
  CHECK(registry.mountsOf(shared.hex()) == 1);
  CHECK(registry.completedUploadsOf(api.layers.back().digest.hex()) == 1);
  CHECK(skopeoDigest(host + "/kiln/api:1") == digestString(apiManifest.digest));
  CHECK(client.hasBlob(Reference::parse(host + "/kiln/api:1"), shared));

  // A blob that another client found present can be mounted as well.
  RegistryClient fresh(plainHttp(host, dir / "none.json"));
  PushResult present =
      fresh.push(layout, "web", Reference::parse(host + "/kiln/web:1"));
  CHECK(present.blobsPresent == 3);
  PushResult copy =
      fresh.push(layout, "api", Reference::parse(host + "/kiln/copy:1"));
  CHECK(copy.blobsMounted == 1);
  CHECK(copy.blobsUploaded == 2);
  CHECK(registry.mountsOf(shared.hex()) == 2);
  CHECK(registry.completedUploadsOf(shared.hex()) == 1);
  CHECK(skopeoDigest(host + "/kiln/web:1") == digestString(webManifest.digest));

  PushResult again =
      fresh.push(layout, "api", Reference::parse(host + "/kiln/api:1"));
  CHECK(again.blobsPresent == 3);
  CHECK(again.blobsMounted == 0);
  CHECK(again.blobsUploaded == 0);
  CHECK(registry.mountsOf(shared.hex()) == 2);
}

TEST_CASE("push pulls from the mount source with one token",
          "[oci][integration]") {
  TempDir dir;
  Layout layout = Layout::create(dir / "layout");
  test::buildAppImage(layout, "web", Compression::gzip, "web");
  test::buildAppImage(layout, "api", Compression::gzip, "api");
  kiln::Digest shared = layout.readImage("web").layers.front().digest;
  std::string realm;
  int uploads = 0;
  // The registry declines every mount with a 202 and an upload session,
  // as the distribution spec allows.
  test::FakeServer server([&](const test::FakeRequest& request) {
    test::FakeResponse response;
    if (kiln::startsWith(request.target, "/token?")) {
      response.body = R"({"token":"tok-mount"})";
      return response;
    }
    auto authorization = request.headers.find("authorization");
    if (authorization == request.headers.end() ||
        authorization->second != "Bearer tok-mount") {
      response.status = 401;
      response.headers["WWW-Authenticate"] =
          "Bearer realm=\"" + realm + "\",service=\"fake\"";
      return response;
    }
    const std::string& target = request.target;
    if (request.method == "HEAD") {
      response.status = 404;
    } else if (request.method == "POST" &&
               target.find("?mount=") != std::string::npos) {
      response.status = 202;
      response.headers["Location"] = "/v2/kiln/api/blobs/uploads/declined";
    } else if (request.method == "POST") {
      response.status = 202;
      response.headers["Location"] =
          target + "u" + std::to_string(++uploads) + "?state=1";
    } else if (request.method == "PUT") {
      response.status = 201;
    } else {
      response.status = 404;
    }
    return response;
  });
  realm = "http://" + server.host() + "/token";
  std::string host = server.host();

  RegistryClient client(plainHttp(host, dir / "none.json"));
  client.push(layout, "web", Reference::parse(host + "/kiln/web:1"));
  PushResult pushed =
      client.push(layout, "api", Reference::parse(host + "/kiln/api:1"));
  CHECK(pushed.blobsMounted == 0);
  CHECK(pushed.blobsUploaded == 3);

  std::string mountScopes =
      "scope=repository%3Akiln%2Fapi%3Apull%2Cpush"
      "&scope=repository%3Akiln%2Fweb%3Apull";
  int mountTokens = 0;
  int mounts = 0;
  int declinedPuts = 0;
  for (const auto& request : server.requests()) {
    if (kiln::startsWith(request.target, "/token?") &&
        request.target.find(mountScopes) != std::string::npos) {
      ++mountTokens;
    }
    if (request.method == "POST" &&
        request.target.find("?mount=") != std::string::npos &&
        request.headers.count("authorization") > 0) {
      ++mounts;
      CHECK(request.target == "/v2/kiln/api/blobs/uploads/?mount=sha256%3A" +
                                  shared.hex() + "&from=kiln%2Fweb");
    }
    if (request.method == "PUT" &&
        kiln::startsWith(request.target,
                         "/v2/kiln/api/blobs/uploads/declined?digest=")) {
      ++declinedPuts;
      CHECK(request.target.find(shared.hex()) != std::string::npos);
    }
  }
  CHECK(mountTokens == 1);
  CHECK(mounts == 1);
  CHECK(declinedPuts == 1);
}

TEST_CASE("pull of a base by tag checks every digest", "[oci][integration]") {
  TempDir dir;
  test::TestRegistry registry(dir / "registry");
  RunResult pushed =
      run({(test::sourceDir() / "tests/support/push-bases.sh").string(),
           test::basesLayout().string(), registry.host()},
          dir.path());
  INFO(pushed.output);
  REQUIRE(pushed.exitCode == 0);
  std::string expected;
  std::istringstream lines(pushed.output);
  for (std::string line; std::getline(lines, line);) {
    if (kiln::startsWith(line, registry.host() + "/bases/node20:1 ")) {
      expected = line.substr(line.find(' ') + 1);
    }
  }
  REQUIRE_FALSE(expected.empty());

  RegistryClient client(plainHttp(registry.host(), dir / "none.json"));
  Layout layout = Layout::create(dir / "pulled");
  Reference reference = Reference::parse(registry.host() + "/bases/node20:1");
  PulledImage image = pullToLayout(client, reference, layout, "node20");

  CHECK(digestString(image.resolved.descriptor.digest) == expected);
  CHECK(image.blobsDownloaded == 2);
  REQUIRE(image.layers.size() == 1);
  CHECK_NOTHROW(layout.verifyBlob(image.layers[0].digest));
  CHECK(layout.readImage("node20").manifestDescriptor.digest ==
        image.resolved.descriptor.digest);
  std::optional<Descriptor> original =
      Layout::open(test::basesLayout()).findImage("node20");
  REQUIRE(original);
  CHECK(original->digest == image.resolved.descriptor.digest);

  PulledImage again = pullToLayout(client, reference, layout, "node20");
  CHECK(again.blobsDownloaded == 0);
  CHECK(again.blobsPresent == 2);
}

TEST_CASE("registry that is down gives a clear error", "[oci][integration]") {
  TempDir dir;
  std::string host = "127.0.0.1:" + std::to_string(test::freeLoopbackPort());
  RegistryClient client(plainHttp(host, dir / "none.json"));
  // A network failure is a runtime error (exit status 1), not a UsageError
  // (exit status 2).
  try {
    client.resolve(Reference::parse(host + "/kiln/app:1"));
    FAIL("no exception");
  } catch (const kiln::UsageError& error) {
    FAIL("a UsageError: " << error.render());
  } catch (const RegistryUnreachableError& error) {
    CHECK_THAT(error.message(),
               Catch::Contains("cannot connect to registry " + host));
    CHECK_THAT(error.message(),
               Catch::Contains("http://" + host + "/v2/kiln/app/manifests/1"));
    CHECK_THAT(error.message(), Catch::Contains("connection refused"));
    CHECK_THAT(error.hint(),
               Catch::Contains("check that a registry is running at " + host));
    CHECK_THAT(error.what(), Catch::Contains(error.message()));
    CHECK_THAT(error.what(), Catch::Contains("\n  fix: " + error.hint()));
  }

  Layout layout = Layout::create(dir / "layout");
  test::buildAppImage(layout, "hello", Compression::gzip, "down");
  try {
    client.push(layout, "hello", Reference::parse(host + "/kiln/h:1"));
    FAIL("no exception");
  } catch (const kiln::UsageError& error) {
    FAIL("a UsageError: " << error.render());
  } catch (const RegistryUnreachableError& error) {
    CHECK_THAT(error.what(),
               Catch::Contains("at http://" + host + "/v2/kiln/h/blobs/"));
  }
}

TEST_CASE("TLS to a plain-HTTP registry names http://", "[oci][integration]") {
  TempDir dir;
  test::TestRegistry registry(dir / "registry");
  RegistryOptions options;
  options.dockerConfig = dir / "none.json";
  RegistryClient client(options);
  try {
    client.resolve(Reference::parse(registry.host() + "/ngw/api:1"));
    FAIL("no exception");
  } catch (const RegistryError& error) {
    INFO(error.render());
    CHECK_THAT(error.what(), Catch::Contains("TLS"));
    CHECK_THAT(error.hint(), Catch::Contains("write http:// in front"));
    CHECK_THAT(error.hint(), Catch::Contains("`kiln push http://" +
                                             registry.host() + "/ngw`"));
    CHECK_THAT(error.hint(), !Catch::Contains("plain-HTTP registries"));
  }
}

TEST_CASE("wrong credentials fail without leaking them", "[oci][integration]") {
  TempDir dir;
  const std::string right = "RightPass-4821";
  const std::string wrong = "WrongPass-9307";
  test::TestRegistry registry(dir / "registry", "kiln:" + right);
  Layout layout = Layout::create(dir / "layout");
  Descriptor manifest =
      test::buildAppImage(layout, "hello", Compression::gzip, "auth");
  Reference target = Reference::parse(registry.host() + "/kiln/hello:1");

  fs::path wrongConfig = dir / "wrong/config.json";
  writeDockerConfig(wrongConfig, registry.host(), "kiln:" + wrong);
  RegistryClient wrongClient(plainHttp(registry.host(), wrongConfig));
  try {
    wrongClient.push(layout, "hello", target);
    FAIL("no exception");
  } catch (const RegistryError& error) {
    std::string text = error.render();
    INFO(text);
    CHECK(error.failure() == RegistryFailure::unauthorized);
    CHECK_THAT(text, Catch::Contains("registry " + registry.host() +
                                     " rejected the credentials"));
    CHECK_THAT(text, Catch::Contains(wrongConfig.string()));
    CHECK(text.find(wrong) == std::string::npos);
    CHECK(text.find(base64Encode("kiln:" + wrong)) == std::string::npos);
    CHECK(text.find(right) == std::string::npos);
  }

  RegistryClient anonymous(plainHttp(registry.host(), dir / "none.json"));
  try {
    anonymous.resolve(target);
    FAIL("no exception");
  } catch (const RegistryError& error) {
    CHECK(error.failure() == RegistryFailure::unauthorized);
    CHECK_THAT(error.what(), Catch::Contains("requires credentials"));
  }

  fs::path rightConfig = dir / "right/config.json";
  writeDockerConfig(rightConfig, registry.host(), "kiln:" + right);
  RegistryClient rightClient(plainHttp(registry.host(), rightConfig));
  PushResult pushed = rightClient.push(layout, "hello", target);
  CHECK(pushed.digest == manifest.digest);
  CHECK(rightClient.resolve(target).descriptor.digest == manifest.digest);
}

TEST_CASE("tampered registry blob fails its digest check",
          "[oci][integration]") {
  TempDir dir;
  test::TestRegistry registry(dir / "registry");
  Layout layout = Layout::create(dir / "layout");
  test::buildAppImage(layout, "hello", Compression::gzip, "tamper");
  RegistryClient client(plainHttp(registry.host(), dir / "none.json"));
  Reference target = Reference::parse(registry.host() + "/kiln/hello:1");
  client.push(layout, "hello", target);
  Descriptor appLayer = layout.readImage("hello").layers.back();
  fs::path stored = registry.blobData(appLayer.digest.hex());
  REQUIRE(fs::exists(stored));
  test::corruptFile(stored);

  Layout pulled = Layout::create(dir / "pulled");
  try {
    pullToLayout(client, target, pulled, "hello");
    FAIL("no exception");
  } catch (const DigestMismatchError& error) {
    CHECK_THAT(error.what(), Catch::Contains(digestString(appLayer.digest)));
    CHECK_THAT(error.what(), Catch::Contains("does not match its digest"));
    CHECK(error.expected() == digestString(appLayer.digest));
  }
  CHECK_FALSE(pulled.hasBlob(appLayer.digest));
  CHECK_FALSE(pulled.findImage("hello"));
}

TEST_CASE("tampered layout blob fails before upload", "[oci][integration]") {
  TempDir dir;
  test::TestRegistry registry(dir / "registry");
  Layout layout = Layout::create(dir / "layout");
  test::buildAppImage(layout, "hello", Compression::gzip, "tamper");
  Descriptor appLayer = layout.readImage("hello").layers.back();
  test::corruptFile(layout.blobPath(appLayer.digest));
  RegistryClient client(plainHttp(registry.host(), dir / "none.json"));
  CHECK_THROWS_AS(client.push(layout, "hello",
                              Reference::parse(registry.host() + "/k/h:1")),
                  DigestMismatchError);
}

TEST_CASE("bearer token flow against a fake registry", "[oci][integration]") {
  TempDir dir;
  std::string manifest = R"({"schemaVersion":2,"mediaType":")" +
                         std::string(media::kOciManifest) +
                         R"(","config":{},"layers":[]})";
  std::string realm;
  const std::string password = "TokenPass-5512";
  test::FakeServer server([&](const test::FakeRequest& request) {
    test::FakeResponse response;
    auto authorization = request.headers.find("authorization");
    std::string sent =
        authorization == request.headers.end() ? "" : authorization->second;
    if (kiln::startsWith(request.target, "/token?")) {
      if (sent != "Basic " + base64Encode("kiln:" + password)) {
        response.status = 401;
        return response;
      }
      response.body = R"({"token":"tok-123"})";
      return response;
    }
    if (sent != "Bearer tok-123") {
      response.status = 401;
      response.headers["WWW-Authenticate"] =
          "Bearer realm=\"" + realm +
          "\",service=\"fake registry\",scope=\"repository:test/app:pull\"";
      return response;
    }
    response.headers["Content-Type"] = std::string(media::kOciManifest);
    response.body = manifest;
    return response;
  });
  realm = "http://" + server.host() + "/token";
  Reference reference = Reference::parse(server.host() + "/test/app:1");

  fs::path config = dir / "config.json";
  writeDockerConfig(config, server.host(), "kiln:" + password);
  RegistryClient client(plainHttp(server.host(), config));
  ResolvedManifest resolved = client.resolve(reference);
  CHECK(resolved.descriptor.digest == kiln::sha256(manifest));
  CHECK(resolved.descriptor.mediaType == media::kOciManifest);

  bool sawToken = false;
  for (const auto& request : server.requests()) {
    if (kiln::startsWith(request.target, "/token?")) {
      sawToken = true;
      CHECK_THAT(request.target, Catch::Contains("service=fake%20registry"));
      CHECK_THAT(request.target,
                 Catch::Contains("scope=repository%3Atest%2Fapp%3Apull"));
    }
  }
  CHECK(sawToken);

  fs::path badConfig = dir / "bad.json";
  writeDockerConfig(badConfig, server.host(), "kiln:nope-77");
  RegistryClient badClient(plainHttp(server.host(), badConfig));
  try {
    badClient.resolve(reference);
    FAIL("no exception");
  } catch (const RegistryError& error) {
    CHECK(error.failure() == RegistryFailure::unauthorized);
    CHECK(error.render().find("nope-77") == std::string::npos);
    CHECK(error.render().find("tok-123") == std::string::npos);
  }
}

TEST_CASE("index resolves to linux/amd64 and 503 is retried",
          "[oci][integration]") {
  std::string amd64 = R"({"schemaVersion":2,"config":{},"layers":[]})";
  std::string amd64Digest = digestString(kiln::sha256(amd64));
  json index = {
      {"schemaVersion", 2},
      {"mediaType", media::kOciIndex},
      {"manifests",
       {{{"mediaType", media::kOciManifest},
         {"digest", digestString(kiln::sha256("arm"))},
         {"size", 3},
         {"platform", {{"architecture", "arm64"}, {"os", "linux"}}}},
        {{"mediaType", media::kOciManifest},
         {"digest", amd64Digest},
         {"size", amd64.size()},
         {"platform", {{"architecture", "amd64"}, {"os", "linux"}}}}}}};
  int failures = 0;
  test::FakeServer server([&](const test::FakeRequest& request) {
    test::FakeResponse response;
    if (request.target == "/v2/multi/manifests/1") {
      if (failures++ == 0) {
        response.status = 503;
        return response;
      }
      response.headers["Content-Type"] = std::string(media::kOciIndex);
      response.body = index.dump();
    } else if (request.target == "/v2/multi/manifests/" + amd64Digest) {
      response.headers["Content-Type"] = std::string(media::kOciManifest);
      response.body = amd64;
    } else {
      response.status = 404;
    }
    return response;
  });
  TempDir dir;
  RegistryClient client(plainHttp(server.host(), dir / "none.json"));
  ResolvedManifest resolved =
      client.resolve(Reference::parse(server.host() + "/multi:1"));
  CHECK(digestString(resolved.descriptor.digest) == amd64Digest);
  REQUIRE(resolved.indexDigest);
  CHECK(*resolved.indexDigest == kiln::sha256(index.dump()));
  CHECK(failures == 2);

  try {
    client.resolve(Reference::parse(server.host() + "/multi:2"));
    FAIL("no exception");
  } catch (const RegistryError& error) {
    CHECK(error.failure() == RegistryFailure::notFound);
    CHECK_THAT(error.what(), Catch::Contains("HTTP 404"));
  }
}
