// The line-based Cargo.toml reader of the rust plugin.
#include <catch2/catch.hpp>

#include "plugins/cargo_manifest.h"

using namespace kiln;

TEST_CASE("cargo manifest package and bins", "[plugins][cargo]") {
  CargoManifest manifest = parseCargoManifest(R"(
[package]
name = "auth"   # the service
version = "0.1.0"
autobins = false

[[bin]]
name = "auth-server"
path = "cmd/server.rs"

[[bin]]
name = 'auth-cli'

[dependencies]
shared = { path = "../shared", version = "0.1" }
serde = "1"
common.workspace = true
tokio = { workspace = true }

[dependencies.proto]
path = "../proto"

[dev-dependencies]
fixtures = { path = "../fixtures" }

[target.'cfg(unix)'.dependencies]
unixy = { path = "../unixy" }
)");
  CHECK(manifest.hasPackage);
  CHECK_FALSE(manifest.isWorkspace);
  CHECK(manifest.packageName == "auth");
  CHECK_FALSE(manifest.autobins);
  REQUIRE(manifest.bins.size() == 2);
  CHECK(manifest.bins[0].name == "auth-server");
  CHECK(manifest.bins[0].path == "cmd/server.rs");
  CHECK(manifest.bins[1].name == "auth-cli");
  CHECK(manifest.pathDependencies ==
        std::vector<std::string>{"../shared", "../proto", "../unixy"});
  CHECK(manifest.workspaceDependencies == std::vector<std::string>{"tokio"});
}

TEST_CASE("cargo manifest workspace", "[plugins][cargo]") {
  CargoManifest manifest = parseCargoManifest(R"(
[workspace]
resolver = "2"
members = [
  "auth",   # comment inside the array
  "uchat",
]

[workspace.dependencies]
shared = { path = "shared" }
serde = "1"
)");
  CHECK(manifest.isWorkspace);
  CHECK_FALSE(manifest.hasPackage);
  CHECK(manifest.workspacePathDependencies.size() == 1);
  CHECK(manifest.workspacePathDependencies.at("shared") == "shared");
}

TEST_CASE("cargo config build target", "[plugins][cargo]") {
  CHECK(cargoBuildTarget("[build]\ntarget = \"x86_64-unknown-linux-musl\"\n") ==
        "x86_64-unknown-linux-musl");
  CHECK(cargoBuildTarget("build.target = 'aarch64-unknown-linux-gnu'\n") ==
        "aarch64-unknown-linux-gnu");
  CHECK(cargoBuildTarget("[target.x]\ntarget = \"no\"\n").empty());
}
