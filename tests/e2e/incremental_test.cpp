// Incremental rebuilds: after one edit, exactly the steps that the edited
// file feeds run again.
#include <catch2/catch.hpp>
#include <chrono>

#include "tests/e2e/e2e_support.h"

using namespace kiln;
using namespace kiln::e2e;
namespace fs = std::filesystem;

namespace {

bool built(const std::string& output, const std::string& step) {
  return output.find("] built " + step + " (") != std::string::npos;
}

// A different text on every run: the e2e cache outlives a test run, and an
// edit seen before would be a cache hit instead of a rebuild.
std::string uniqueText() {
  return std::to_string(
      std::chrono::system_clock::now().time_since_epoch().count());
}

}  // namespace

TEST_CASE("editing one service rebuilds only it", "[cache][e2e]") {
  test::TempDir ws;
  cloneWorkspace(ws.path());
  std::vector<std::string> targets = {"build", "gateway", "malets", "auth"};
  test::RunResult first = runKilnOn(ws.path(), targets);
  INFO(first.output);
  REQUIRE(first.exitCode == 0);

  fs::path source = ws / "ngwenya-federation/apps/malets/src/main.ts";
  test::writeFile(source,
                  test::readText(source) + "// edited " + uniqueText() + "\n");
  test::RunResult second = runKilnOn(ws.path(), targets);
  INFO(second.output);
  REQUIRE(second.exitCode == 0);
  CHECK(built(second.output, "malets:build"));
  CHECK_FALSE(built(second.output, "gateway:build"));
  CHECK_FALSE(built(second.output, "auth:build"));
  CHECK_FALSE(built(second.output, "federation:npm-ci"));
  CHECK_FALSE(built(second.output, "federation:libs/shared:build"));
  CHECK_FALSE(built(second.output, "federation:npm-ci-prod"));
}

TEST_CASE("editing the shared library rebuilds services", "[cache][e2e]") {
  test::TempDir ws;
  cloneWorkspace(ws.path());
  std::vector<std::string> targets = {"build", "gateway", "malets", "front"};
  test::RunResult first = runKilnOn(ws.path(), targets);
  INFO(first.output);
  REQUIRE(first.exitCode == 0);

  fs::path source = ws / "ngwenya-federation/libs/shared/src/health.ts";
  test::writeFile(source, test::readText(source) + "export const EDITED = '" +
                              uniqueText() + "';\n");
  test::RunResult second = runKilnOn(ws.path(), targets);
  INFO(second.output);
  REQUIRE(second.exitCode == 0);
  CHECK(built(second.output, "federation:libs/shared:build"));
  CHECK(built(second.output, "gateway:build"));
  CHECK(built(second.output, "malets:build"));
  CHECK(built(second.output, "federation:npm-ci-prod"));
  CHECK_FALSE(built(second.output, "front:build"));
  CHECK_FALSE(built(second.output, "federation:npm-ci"));
}

TEST_CASE("editing the lockfile reruns installs", "[cache][e2e]") {
  test::TempDir ws;
  cloneWorkspace(ws.path());
  std::vector<std::string> targets = {"build", "gateway", "front"};
  test::RunResult first = runKilnOn(ws.path(), targets);
  INFO(first.output);
  REQUIRE(first.exitCode == 0);

  // Trailing blanks change the file's digest but not what npm installs.
  fs::path lockfile = ws / "ngwenya-federation/package-lock.json";
  std::size_t blanks = std::stoull(uniqueText()) % 997 + 1;
  test::writeFile(lockfile,
                  test::readText(lockfile) + std::string(blanks, ' ') + "\n");
  test::RunResult second = runKilnOn(ws.path(), targets);
  INFO(second.output);
  REQUIRE(second.exitCode == 0);
  CHECK(built(second.output, "federation:npm-ci"));
  CHECK(built(second.output, "federation:npm-ci-prod"));
  CHECK_FALSE(built(second.output, "front:npm-ci"));
  CHECK_FALSE(built(second.output, "front:build"));
}

TEST_CASE("editing an astro page rebuilds one portal", "[cache][e2e]") {
  test::TempDir ws;
  cloneWorkspace(ws.path());
  std::vector<std::string> targets = {"build", "dev", "support"};
  test::RunResult first = runKilnOn(ws.path(), targets);
  INFO(first.output);
  REQUIRE(first.exitCode == 0);

  fs::path page = ws / "ngwenya-dev/src/pages/index.astro";
  test::writeFile(
      page, test::readText(page) + "\n<p>edited " + uniqueText() + "</p>\n");
  test::RunResult second = runKilnOn(ws.path(), targets);
  INFO(second.output);
  REQUIRE(second.exitCode == 0);
  CHECK(built(second.output, "dev:build"));
  CHECK(built(second.output, "dev:image"));
  CHECK_FALSE(built(second.output, "support:build"));
  CHECK_FALSE(built(second.output, "support:image"));
  CHECK_FALSE(built(second.output, "dev:npm-ci"));
}

TEST_CASE("unchanged rebuild runs nothing", "[cache][e2e]") {
  test::RunResult result = runKilnOn(sharedWorkspace(), {"build"});
  INFO(result.output);
  REQUIRE(result.exitCode == 0);
  CHECK(result.output.find("] built ") == std::string::npos);
  CHECK(result.output.find("] cached ") == std::string::npos);
  CHECK(result.output.find("] up to date gateway:image ") != std::string::npos);
}
