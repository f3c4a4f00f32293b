#include <catch2/catch.hpp>

#include "util/glob.h"

using kiln::Glob;
using kiln::GlobSet;

TEST_CASE("glob matches single segments", "[glob]") {
  CHECK(Glob("src/*.ts").matches("src/main.ts"));
  CHECK_FALSE(Glob("src/*.ts").matches("src/app/main.ts"));
  CHECK(Glob("apps/?ateway").matches("apps/gateway"));
  CHECK(Glob("[abc]x").matches("bx"));
  CHECK_FALSE(Glob("[!abc]x").matches("bx"));
  CHECK(Glob("[a-c]x").matches("cx"));
}

TEST_CASE("glob double star spans segments", "[glob]") {
  Glob glob("apps/gateway/src/**");
  CHECK(glob.matches("apps/gateway/src/main.ts"));
  CHECK(glob.matches("apps/gateway/src/a/b/c.ts"));
  CHECK_FALSE(glob.matches("apps/products/src/main.ts"));
  CHECK(Glob("**/*.json").matches("package.json"));
  CHECK(Glob("**/*.json").matches("a/b/package.json"));
}

TEST_CASE("glob prunes directories", "[glob]") {
  Glob glob("apps/*/src/**");
  CHECK(glob.mayMatchBelow(""));
  CHECK(glob.mayMatchBelow("apps"));
  CHECK(glob.mayMatchBelow("apps/gateway"));
  CHECK_FALSE(glob.mayMatchBelow("libs"));
  CHECK(Glob("node_modules/**").matchesAllBelow("node_modules/x"));
}

TEST_CASE("glob set applies excludes to whole directories", "[glob]") {
  GlobSet set({"**", "!node_modules", "!dist/**"});
  CHECK(set.matches("src/main.ts"));
  CHECK_FALSE(set.matches("node_modules/x/index.js"));
  CHECK_FALSE(set.matches("dist/main.js"));
  CHECK_FALSE(set.shouldDescend("node_modules"));
  CHECK(set.shouldDescend("src"));
}

TEST_CASE("glob never matches dot segments", "[glob]") {
  CHECK_FALSE(Glob("*").matches(".."));
  CHECK_FALSE(Glob("**/x").matches("../x"));
}
