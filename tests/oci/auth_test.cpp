// WWW-Authenticate parsing, Docker config credentials and URL redaction.
#include <catch2/catch.hpp>
#include <cstdlib>

#include "core/oci/auth.h"
#include "tests/common/test_support.h"
#include "util/error.h"

using namespace kiln::oci;
using kiln::test::TempDir;
using kiln::test::writeFile;

TEST_CASE("bearer challenge is parsed", "[oci][auth]") {
  auto challenges = parseWwwAuthenticate(
      R"(Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/node:pull,push")");
  REQUIRE(challenges.size() == 1);
  CHECK(challenges[0].scheme == "bearer");
  CHECK(challenges[0].params["realm"] == "https://auth.docker.io/token");
  CHECK(challenges[0].params["service"] == "registry.docker.io");
  CHECK(challenges[0].params["scope"] == "repository:library/node:pull,push");
}

TEST_CASE("challenge parsing handles case, tokens and escapes", "[oci][auth]") {
  auto basic = parseWwwAuthenticate(R"(Basic Realm="kiln \"test\" registry")");
  REQUIRE(basic.size() == 1);
  CHECK(basic[0].scheme == "basic");
  CHECK(basic[0].params["realm"] == "kiln \"test\" registry");

  auto two = parseWwwAuthenticate(
      R"(Basic realm=simple, Bearer realm="https://t/token", error="invalid_token")");
  REQUIRE(two.size() == 2);
  CHECK(two[0].scheme == "basic");
  CHECK(two[0].params["realm"] == "simple");
  CHECK(two[1].scheme == "bearer");
  CHECK(two[1].params["realm"] == "https://t/token");
  CHECK(two[1].params["error"] == "invalid_token");

  CHECK(parseWwwAuthenticate("").empty());
  auto unterminated = parseWwwAuthenticate(R"(Bearer realm="https://x)");
  REQUIRE(unterminated.size() == 1);
  CHECK(unterminated[0].params.empty());
}

TEST_CASE("Docker config credentials are found", "[oci][auth]") {
  TempDir dir;
  // "bob:s3cret:with:colons" and "hub:hubpass" in base64.
  std::string bob = base64Encode("bob:s3cret:with:colons");
  writeFile(
      dir / "config.json",
      R"({"auths":{"127.0.0.1:5000":{"auth":")" + bob +
          R"("},"https://index.docker.io/v1/":{"auth":")" +
          base64Encode("hub:hubpass") +
          R"("},"http://legacy.example:8080/v2/":{"username":"u","password":"p"}},)"
          R"("credHelpers":{"gcr.io":"gcloud"}})");

  auto local = readDockerConfig(dir / "config.json", "127.0.0.1:5000");
  REQUIRE(local.credentials);
  CHECK(local.credentials->username == "bob");
  CHECK(local.credentials->password == "s3cret:with:colons");
  CHECK_FALSE(local.usesHelper);

  auto hub = readDockerConfig(dir / "config.json", "docker.io");
  REQUIRE(hub.credentials);
  CHECK(hub.credentials->username == "hub");

  auto legacy = readDockerConfig(dir / "config.json", "legacy.example:8080");
  REQUIRE(legacy.credentials);
  CHECK(legacy.credentials->password == "p");

  auto helper = readDockerConfig(dir / "config.json", "gcr.io");
  CHECK_FALSE(helper.credentials);
  CHECK(helper.usesHelper);

  CHECK_FALSE(
      readDockerConfig(dir / "config.json", "127.0.0.1:5001").credentials);
  CHECK_FALSE(readDockerConfig(dir / "missing.json", "x").credentials);

  writeFile(dir / "bad.json", "{not json");
  CHECK_THROWS_AS(readDockerConfig(dir / "bad.json", "x"), kiln::UsageError);
}

TEST_CASE("DOCKER_CONFIG moves the config file", "[oci][auth]") {
  const char* home = std::getenv("HOME");
  std::string savedHome = home != nullptr ? home : "";
  ::setenv("DOCKER_CONFIG", "/tmp/kiln-docker-config", 1);
  CHECK(defaultDockerConfigPath() == "/tmp/kiln-docker-config/config.json");
  ::unsetenv("DOCKER_CONFIG");
  ::setenv("HOME", "/home/someone", 1);
  CHECK(defaultDockerConfigPath() == "/home/someone/.docker/config.json");
  ::setenv("HOME", savedHome.c_str(), 1);
}

TEST_CASE("URLs lose user information and queries", "[oci][auth]") {
  CHECK(redactUrl("https://bob:pa55@registry.example/v2/x/blobs/uploads/"
                  "abc?_state=secret") ==
        "https://registry.example/v2/x/blobs/uploads/abc?...");
  CHECK(redactUrl("http://127.0.0.1:5000/token") ==
        "http://127.0.0.1:5000/token");
  CHECK(redactUrl("https://user@host") == "https://host");
}

TEST_CASE("base64 round-trips", "[oci][auth]") {
  for (std::string text : {"", "a", "ab", "abc", "user:pa:ss\n\xff"}) {
    INFO(text);
    CHECK(base64Decode(base64Encode(text)) == text);
  }
  CHECK(base64Encode("kiln:secret") == "a2lsbjpzZWNyZXQ=");
  CHECK(base64Decode("a2lsbjpzZWNyZXQ") == std::string("kiln:secret"));
  CHECK_FALSE(base64Decode("!!!!"));
}
