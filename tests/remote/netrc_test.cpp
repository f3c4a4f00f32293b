#include <catch2/catch.hpp>

#include <cstdlib>

#include "cache/remote/netrc.h"

using namespace kiln;

TEST_CASE("netrc finds the machine entry", "[netrc]") {
  const char* text =
      "machine other.example login alice password one\n"
      "machine cache.example\n"
      "  login bob\n"
      "  password two\n";
  auto found = findNetrcCredentials(text, "cache.example");
  REQUIRE(found);
  CHECK(found->login == "bob");
  CHECK(found->password == "two");

  auto other = findNetrcCredentials(text, "OTHER.example");
  REQUIRE(other);
  CHECK(other->login == "alice");

  CHECK_FALSE(findNetrcCredentials(text, "third.example"));
}

TEST_CASE("netrc falls back to default", "[netrc]") {
  const char* text =
      "machine a login x password y\n"
      "default login anon password guest\n";
  auto found = findNetrcCredentials(text, "b");
  REQUIRE(found);
  CHECK(found->login == "anon");
  CHECK(found->password == "guest");
  CHECK(findNetrcCredentials(text, "a")->login == "x");
}

TEST_CASE("netrc first matching machine wins", "[netrc]") {
  const char* text =
      "machine h login first password 1 machine h login second password 2";
  CHECK(findNetrcCredentials(text, "h")->login == "first");
}

TEST_CASE("netrc quoted values, comments and macdef", "[netrc]") {
  const char* text =
      "# a comment: machine h login wrong\n"
      "macdef init\n"
      "machine h login fromMacro password nope\n"
      "\n"
      "machine h login \"bob smith\" password \"pa ss\\\"word\" account x\n";
  auto found = findNetrcCredentials(text, "h");
  REQUIRE(found);
  CHECK(found->login == "bob smith");
  CHECK(found->password == "pa ss\"word");
}

TEST_CASE("netrc entry without login is no match", "[netrc]") {
  CHECK_FALSE(findNetrcCredentials("machine h password p", "h"));
  CHECK_FALSE(findNetrcCredentials("", "h"));
  CHECK_FALSE(findNetrcCredentials("login x password y", "h"));
}

TEST_CASE("netrc path comes from NETRC or HOME", "[netrc]") {
  const char* savedNetrc = std::getenv("NETRC");
  std::string netrc = savedNetrc != nullptr ? savedNetrc : "";
  const char* savedHome = std::getenv("HOME");
  std::string home = savedHome != nullptr ? savedHome : "";

  ::setenv("NETRC", "/tmp/custom-netrc", 1);
  CHECK(defaultNetrcPath() == "/tmp/custom-netrc");
  ::unsetenv("NETRC");
  ::setenv("HOME", "/home/someone", 1);
  CHECK(defaultNetrcPath() == "/home/someone/.netrc");

  if (savedNetrc != nullptr) {
    ::setenv("NETRC", netrc.c_str(), 1);
  }
  if (savedHome != nullptr) {
    ::setenv("HOME", home.c_str(), 1);
  } else {
    ::unsetenv("HOME");
  }
}
