#include <catch2/catch.hpp>

#include "cache/remote/http_remote_cache.h"
#include "cache/remote/http_transport.h"
#include "cache/remote/remote_url.h"
#include "util/error.h"

using namespace kiln;

namespace {

RemoteUrl parseOrFail(const std::string& text) {
  std::string error;
  std::optional<RemoteUrl> url = RemoteUrl::parse(text, &error);
  INFO(text << ": " << error);
  REQUIRE(url);
  return *url;
}

std::string parseError(const std::string& text) {
  std::string error;
  CHECK_FALSE(RemoteUrl::parse(text, &error));
  return error;
}

}  // namespace

TEST_CASE("remote URL without instance", "[url]") {
  RemoteUrl url = parseOrFail("http://cache.example:8080");
  CHECK(url.scheme == "http");
  CHECK(url.host == "cache.example");
  CHECK(url.port == "8080");
  CHECK(url.instance.empty());
  CHECK(url.resourceUrl("ac", sha256("k")) ==
        "http://cache.example:8080/ac/" + sha256("k").hex());
  CHECK(parseOrFail("https://cache.example/").resourceUrl("cas", sha256("")) ==
        "https://cache.example/cas/" + sha256("").hex());
}

TEST_CASE("remote URL instance name is a path prefix", "[url]") {
  RemoteUrl url = parseOrFail("http://127.0.0.1:9090/team1");
  CHECK(url.instance == "team1");
  CHECK(url.resourceUrl("cas", sha256("x")) ==
        "http://127.0.0.1:9090/team1/cas/" + sha256("x").hex());
  CHECK(url.display() == "http://127.0.0.1:9090/team1");

  CHECK(parseOrFail("http://h/team1/").instance == "team1");
  CHECK(parseOrFail("http://h//a/b.c_d~e-f//").instance == "a/b.c_d~e-f");
  CHECK(parseOrFail("HTTP://h").scheme == "http");
}

TEST_CASE("remote URL with IPv6 host", "[url]") {
  RemoteUrl url = parseOrFail("http://[::1]:8080/i");
  CHECK(url.host == "[::1]");
  CHECK(url.hostName() == "::1");
  CHECK(url.port == "8080");
  CHECK(url.origin() == "http://[::1]:8080");
  CHECK(parseOrFail("http://[::1]").port.empty());
}

TEST_CASE("remote URL rejects malformed input", "[url]") {
  CHECK_THAT(parseError("cache.example:8080"), Catch::Contains("http://"));
  CHECK_THAT(parseError("ftp://h"), Catch::Contains("unsupported scheme"));
  CHECK_THAT(parseError("http://"), Catch::Contains("host is empty"));
  CHECK_THAT(parseError("http://h:0"), Catch::Contains("invalid port"));
  CHECK_THAT(parseError("http://h:65536"), Catch::Contains("invalid port"));
  CHECK_THAT(parseError("http://h:12ab"), Catch::Contains("invalid port"));
  CHECK_THAT(parseError("http://h/a?x=1"), Catch::Contains("query"));
  CHECK_THAT(parseError("http://h/a/../b"), Catch::Contains("'..'"));
  CHECK_THAT(parseError("http://h/a b"), Catch::Contains("instance name"));
  CHECK_THAT(parseError("http://[::1"), Catch::Contains("IPv6"));
  CHECK_THAT(parseError("http://u:%zz@h"), Catch::Contains("percent"));
}

TEST_CASE("remote URL userinfo is parsed and hidden", "[url][redaction]") {
  RemoteUrl url = parseOrFail("http://bob:p%40ss%3Aword@h:81/team");
  CHECK(url.user == "bob");
  CHECK(url.password == "p@ss:word");
  CHECK(url.host == "h");
  CHECK(url.display() == "http://h:81/team");
  CHECK(url.resourceUrl("ac", sha256("")).find("bob") == std::string::npos);

  // An error message about a bad port never repeats the password.
  std::string error = parseError("http://bob:hunter2@h:99999");
  CHECK(error.find("hunter2") == std::string::npos);
}

TEST_CASE("redactUrl hides userinfo", "[redaction]") {
  CHECK(redactUrl("http://bob:hunter2@h:81/a") == "http://***@h:81/a");
  CHECK(redactUrl("https://token@h") == "https://***@h");
  CHECK(redactUrl("http://h/a@b") == "http://h/a@b");
  CHECK(redactUrl("http://h:81/x") == "http://h:81/x");
  CHECK(redactUrl("not a url") == "not a url");
}

TEST_CASE("credentials scrub removes secrets from text", "[redaction]") {
  HttpCredentials credentials;
  credentials.bearerToken = "tok-123";
  credentials.password = "hunter2";
  CHECK(credentials.scrub("a tok-123 b hunter2 c tok-123") ==
        "a *** b *** c ***");
  CHECK(HttpCredentials{}.scrub("plain") == "plain");
}

TEST_CASE("bad URL error hides the password", "[url][redaction]") {
  RemoteCacheOptions options;
  options.url = "htp://bob:hunter2@h";
  try {
    HttpRemoteCache cache(options);
    FAIL("expected a UsageError");
  } catch (const UsageError& error) {
    std::string text = error.render();
    CHECK_THAT(text, Catch::Contains("unsupported scheme"));
    CHECK(text.find("hunter2") == std::string::npos);
    CHECK_THAT(text, Catch::Contains("***@h"));
  }
}

TEST_CASE("remote cache picks credentials in order", "[url]") {
  RemoteCacheOptions options;
  options.url = "http://bob:pw@127.0.0.1:1";
  options.bearerToken = "tok";
  CHECK(HttpRemoteCache(options).credentialSource() == "bearer token");

  options.bearerToken = "";
  options.netrcPath = "/nonexistent/netrc";
  CHECK(HttpRemoteCache(options).credentialSource() == "user bob from the URL");

  options.url = "http://127.0.0.1:1";
  CHECK(HttpRemoteCache(options).credentialSource() == "none");
}
