#include <catch2/catch.hpp>

#include <chrono>
#include <cstdlib>

#include "cache/remote/http_remote_cache.h"
#include "tests/common/loopback_server.h"

using namespace kiln;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

namespace {

RemoteCacheOptions fastOptions(const std::string& url) {
  RemoteCacheOptions options;
  options.url = url;
  options.bearerToken = "";
  options.netrcPath = "/nonexistent";
  options.retry.initialBackoff = milliseconds(20);
  return options;
}

}  // namespace

TEST_CASE("HTTP 500 is retried then an error", "[faults]") {
  test::LoopbackServer server(500, "database on fire\n");
  HttpRemoteCache cache(fastOptions(server.url()));

  RemoteActionEntry entry;
  RemoteResult result = cache.getAction(sha256("k"), &entry);
  CHECK(result.isError());
  CHECK_THAT(result.message(), Catch::Contains("HTTP 500"));
  CHECK_THAT(result.message(), Catch::Contains("database on fire"));
  CHECK_THAT(result.message(), Catch::Contains("after 3 attempts"));
  // One request and the two retries of the default policy.
  CHECK(server.requests().size() == 3);
  CHECK_FALSE(cache.available());
  CHECK_THAT(cache.unavailableReason(), Catch::Contains("HTTP 500"));

  // Unavailable: later calls send nothing.
  CHECK(cache.hasBlob(sha256("x")).isError());
  CHECK(cache.putBlobBytes(sha256("x"), "x").isError());
  CHECK(server.requests().size() == 3);
}

TEST_CASE("retry count follows the policy", "[faults]") {
  test::LoopbackServer server(503, "");
  RemoteCacheOptions options = fastOptions(server.url());
  options.retry.maxRetries = 0;
  HttpRemoteCache cache(options);
  RemoteResult result = cache.putBlobBytes(sha256("b"), "b");
  CHECK(result.isError());
  CHECK_THAT(result.message(), Catch::Contains("after 1 attempt"));
  CHECK(server.requests().size() == 1);
}

TEST_CASE("other 4xx is an error without retry", "[faults]") {
  test::LoopbackServer server(400, "bad digest\n");
  HttpRemoteCache cache(fastOptions(server.url()));
  RemoteResult result = cache.putBlobBytes(sha256("b"), "b");
  CHECK(result.isError());
  CHECK_THAT(result.message(), Catch::Contains("HTTP 400 (bad digest)"));
  CHECK(server.requests().size() == 1);
  // One rejected request does not make the whole cache unavailable.
  CHECK(cache.available());
}

TEST_CASE("hanging server times out", "[faults]") {
  auto server = test::LoopbackServer::hanging();
  RemoteCacheOptions options = fastOptions(server->url());
  options.requestTimeout = milliseconds(300);
  options.retry.maxRetries = 1;
  HttpRemoteCache cache(options);

  auto start = steady_clock::now();
  RemoteResult result = cache.hasBlob(sha256("x"));
  auto elapsed = steady_clock::now() - start;
  CHECK(result.isError());
  CHECK_THAT(result.message(), Catch::Contains("timed out"));
  CHECK_THAT(result.message(), Catch::Contains("after 2 attempts"));
  CHECK(elapsed >= milliseconds(600));
  CHECK(elapsed < milliseconds(3000));
  CHECK(server->requests().size() == 2);
  CHECK_FALSE(cache.available());
}

TEST_CASE("bearer token is sent and never shown", "[faults][auth]") {
  const std::string token = "tok-Abc-123";

  SECTION("header on every request") {
    test::LoopbackServer server(404, "");
    RemoteCacheOptions options = fastOptions(server.url());
    options.bearerToken = token;
    HttpRemoteCache cache(options);
    RemoteActionEntry entry;
    CHECK(cache.getAction(sha256("k"), &entry).isMiss());
    REQUIRE(server.requests().size() == 1);
    CHECK_THAT(server.requests()[0],
               Catch::Contains("Authorization: Bearer " + token));
    CHECK_THAT(server.requests()[0], Catch::StartsWith("GET /ac/"));
  }

  SECTION("taken from KILN_REMOTE_CACHE_TOKEN") {
    test::LoopbackServer server(404, "");
    ::setenv("KILN_REMOTE_CACHE_TOKEN", token.c_str(), 1);
    RemoteCacheOptions options = fastOptions(server.url());
    options.bearerToken.reset();
    HttpRemoteCache cache(options);
    ::unsetenv("KILN_REMOTE_CACHE_TOKEN");
    CHECK(cache.credentialSource() == "bearer token");
    CHECK(cache.hasBlob(sha256("x")).isMiss());
    REQUIRE(server.requests().size() == 1);
    CHECK_THAT(server.requests()[0],
               Catch::Contains("Authorization: Bearer " + token));
  }

  SECTION("a server that echoes the token") {
    test::LoopbackServer server(401, "token " + token + " is expired\n");
    RemoteCacheOptions options = fastOptions(server.url());
    options.bearerToken = token;
    std::string warned;
    options.onUnavailable = [&](const std::string& reason) { warned = reason; };
    HttpRemoteCache cache(options);
    RemoteResult result = cache.putAction(sha256("k"), RemoteActionEntry{});
    CHECK(result.isError());
    CHECK_THAT(result.message(), Catch::Contains("HTTP 401"));
    CHECK_THAT(result.message(), Catch::Contains("token *** is expired"));
    CHECK(result.message().find(token) == std::string::npos);
    CHECK(warned.find(token) == std::string::npos);
    CHECK(cache.unavailableReason().find(token) == std::string::npos);
  }
}

TEST_CASE("PUT sends the raw body with its length", "[faults]") {
  test::LoopbackServer server(201, "");
  HttpRemoteCache cache(fastOptions(server.url()));
  std::string body = "raw blob bytes";
  REQUIRE(cache.putBlobBytes(sha256(body), body).isOk());
  REQUIRE(server.requests().size() == 1);
  std::string head = server.requests()[0];
  CHECK_THAT(head, Catch::StartsWith("PUT /cas/" + sha256(body).hex()));
  CHECK_THAT(head, Catch::Contains("Content-Length: 14"));
  CHECK(head.find("Content-Encoding") == std::string::npos);
}
