// Expansion of the rust plugin on a small cargo workspace.
#include <catch2/catch.hpp>

#include "tests/plugins/plugin_fixture.h"
#include "util/error.h"

using namespace kiln;
using namespace kiln::test;

namespace {

void writeCargoWorkspace(const PluginFixture& repo) {
  repo.write("rust/Cargo.toml",
             "[workspace]\nmembers = [\"auth\", \"shared\", \"tools\"]\n");
  repo.write("rust/Cargo.lock", "version = 4\n");
  repo.write("rust/auth/Cargo.toml",
             "[package]\nname = \"auth\"\nversion = \"0.1.0\"\n\n"
             "[dependencies]\nshared = { path = \"../shared\" }\n");
  repo.write("rust/auth/src/main.rs", "fn main() {}\n");
  repo.write("rust/shared/Cargo.toml",
             "[package]\nname = \"shared\"\nversion = \"0.1.0\"\n");
  repo.write("rust/shared/src/lib.rs", "\n");
  repo.write("rust/tools/Cargo.toml",
             "[package]\nname = \"tools\"\nversion = \"0.1.0\"\n");
  repo.write("rust/tools/src/bin/migrate.rs", "fn main() {}\n");
  repo.write("rust/tools/src/bin/seed.rs", "fn main() {}\n");
}

}  // namespace

TEST_CASE("rust binary step", "[plugins][rust]") {
  PluginFixture repo;
  writeCargoWorkspace(repo);
  std::vector<Step> steps =
      repo.expand(repo.target("auth", "rust", "rust/auth"));
  REQUIRE(steps.size() == 1);
  const Step& step = steps.front();
  CHECK(step.id == "auth:build");
  CHECK(step.workingDir == "rust");
  REQUIRE(step.argv.size() == 3);
  CHECK_THAT(step.argv[2],
             Catch::StartsWith("cargo build --release --locked --offline "
                               "-p auth --bin auth && "));
  CHECK_THAT(step.argv[2], Catch::Contains("cp target/release/auth"));
  CHECK(step.outputs == std::vector<std::string>{"rust/target/kiln/auth"});
  CHECK(step.env.at("CARGO_TARGET_DIR") == "target");
  CHECK(contains(step.tools, "cargo"));
  CHECK(contains(step.tools, "rustc"));
  for (const char* input :
       {"rust/auth/src/**", "rust/auth/Cargo.toml", "rust/auth/build.rs",
        "rust/shared/src/**", "rust/shared/Cargo.toml", "rust/Cargo.toml",
        "rust/Cargo.lock", "rust/.cargo/config.toml",
        "rust/rust-toolchain.toml", ".cargo/config.toml",
        "rust-toolchain.toml"}) {
    INFO(input);
    CHECK(contains(step.inputs, input));
  }
  CHECK_FALSE(contains(step.inputs, "rust/tools/src/**"));
}

TEST_CASE("rust build target from cargo config", "[plugins][rust]") {
  PluginFixture repo;
  writeCargoWorkspace(repo);
  repo.write("rust/.cargo/config.toml",
             "[build]\ntarget = \"x86_64-unknown-linux-musl\"\n");
  std::vector<Step> steps =
      repo.expand(repo.target("auth", "rust", "rust/auth"));
  CHECK_THAT(steps.front().argv[2],
             Catch::Contains("cp target/x86_64-unknown-linux-musl/release/"
                             "auth"));
}

TEST_CASE("rust several binaries need bin", "[plugins][rust]") {
  PluginFixture repo;
  writeCargoWorkspace(repo);
  try {
    repo.expand(repo.target("tools", "rust", "rust/tools"));
    FAIL("expected a ConfigError");
  } catch (const ConfigError& error) {
    CHECK_THAT(error.what(), Catch::Contains("migrate, seed"));
  }
  std::vector<Step> steps =
      repo.expand(repo.target("seed", "rust", "rust/tools", "{ bin: seed }"));
  CHECK_THAT(steps.front().argv[2], Catch::Contains("-p tools --bin seed"));
  CHECK(steps.front().outputs ==
        std::vector<std::string>{"rust/target/kiln/seed"});
  CHECK_THROWS_AS(
      repo.expand(repo.target("x", "rust", "rust/tools", "{ bin: nope }")),
      ConfigError);
}

TEST_CASE("rust missing Cargo.lock", "[plugins][rust]") {
  PluginFixture repo;
  writeCargoWorkspace(repo);
  std::filesystem::remove(repo.root() / "rust/Cargo.lock");
  try {
    repo.expand(repo.target("auth", "rust", "rust/auth"));
    FAIL("expected a UsageError");
  } catch (const UsageError& error) {
    CHECK_THAT(error.what(), Catch::Contains("rust/Cargo.lock"));
    CHECK_THAT(error.hint(), Catch::Contains("cargo generate-lockfile"));
  }
}

TEST_CASE("rust library crate rejected", "[plugins][rust]") {
  PluginFixture repo;
  writeCargoWorkspace(repo);
  try {
    repo.expand(repo.target("shared", "rust", "rust/shared"));
    FAIL("expected a UsageError");
  } catch (const UsageError& error) {
    CHECK_THAT(error.what(), Catch::Contains("rust/shared/Cargo.toml"));
    CHECK_THAT(error.what(), Catch::Contains("no binary target"));
  }
}
