// Expansion of the nestjs plugin: npm workspaces and Nest CLI monorepos.
#include <catch2/catch.hpp>

#include "tests/plugins/plugin_fixture.h"
#include "util/error.h"

using namespace kiln;
using namespace kiln::test;

namespace {

const char* kServiceManifest = R"({
  "name": "@acme/gateway", "private": true, "type": "module",
  "scripts": { "build": "nest build" },
  "dependencies": { "@acme/shared": "*", "@nestjs/core": "^12.6.3" }
})";

// An npm workspace with a library and two services; the lockfile lists a
// nested node_modules under apps/orders.
void writeWorkspace(const PluginFixture& repo) {
  repo.write("package.json", R"({
    "name": "acme", "private": true, "workspaces": ["libs/*", "apps/*"],
    "devDependencies": { "@nestjs/cli": "^12.0.15" } })");
  repo.write("package-lock.json", R"({
    "name": "acme", "lockfileVersion": 3, "packages": {
      "": { "name": "acme", "workspaces": ["libs/*", "apps/*"] },
      "apps/gateway": { "name": "@acme/gateway" },
      "apps/orders": { "name": "@acme/orders" },
      "libs/shared": { "name": "@acme/shared" },
      "node_modules/@acme/gateway": { "resolved": "apps/gateway", "link": true },
      "node_modules/@acme/shared": { "resolved": "libs/shared", "link": true },
      "node_modules/@nestjs/core": { "version": "12.6.3" },
      "apps/orders/node_modules/rxjs": { "version": "7.8.2" },
      "apps/orders/node_modules/typescript": { "version": "6.0.3", "dev": true }
    } })");
  repo.write("tsconfig.base.json", "{}");
  repo.write("libs/shared/package.json", R"({
    "name": "@acme/shared", "type": "module", "main": "dist/index.js",
    "files": ["dist"], "scripts": { "build": "tsc -p tsconfig.json" } })");
  repo.write("libs/shared/tsconfig.json",
             R"({ "extends": "../../tsconfig.base.json",
                  "compilerOptions": { "outDir": "./dist" } })");
  repo.write("libs/shared/src/index.ts", "export const x = 1;\n");
  for (const char* service : {"gateway", "orders"}) {
    std::string dir = std::string("apps/") + service;
    std::string manifest = kServiceManifest;
    manifest.replace(manifest.find("gateway"), 7, service);
    repo.write(dir + "/package.json", manifest);
    repo.write(dir + "/nest-cli.json",
               R"({ "sourceRoot": "src",
                    "compilerOptions": { "tsConfigPath": "tsconfig.json" } })");
    repo.write(dir + "/tsconfig.json",
               R"({ "extends": "../../tsconfig.base.json",
                    // comments are allowed, as tsc allows them
                    "compilerOptions": { "outDir": "./dist" } })");
    repo.write(dir + "/src/main.ts", "console.log(1);\n");
  }
}

}  // namespace

TEST_CASE("nestjs workspace service steps", "[plugins][nestjs]") {
  PluginFixture repo;
  writeWorkspace(repo);
  std::vector<Step> steps =
      repo.expand(repo.target("gateway", "nestjs", "apps/gateway"));

  CHECK(stepIds(steps) ==
        std::vector<std::string>{"repo:npm-ci", "repo:libs/shared:build",
                                 "repo:prod-install-script", "repo:npm-ci-prod",
                                 "gateway:build"});

  const Step& install = findStep(steps, "repo:npm-ci");
  CHECK(install.shared);
  CHECK(install.workingDir.empty());
  CHECK(install.argv ==
        std::vector<std::string>{"npm", "ci", "--no-audit", "--no-fund"});
  CHECK(install.outputs ==
        std::vector<std::string>{
            "apps/orders/node_modules", "node_modules",
            "!**/node_modules/.vite", "!**/node_modules/.vite-temp",
            "!**/node_modules/.astro", "!**/node_modules/.cache"});
  CHECK(contains(install.inputs, "package-lock.json"));
  CHECK(contains(install.inputs, "apps/gateway/package.json"));
  CHECK(contains(install.inputs, ".npmrc"));
  CHECK(install.env.empty());

  const Step& library = findStep(steps, "repo:libs/shared:build");
  CHECK(library.shared);
  CHECK(library.argv ==
        std::vector<std::string>{"npm", "run", "build", "-w", "libs/shared"});
  CHECK(library.outputs == std::vector<std::string>{"libs/shared/dist"});
  CHECK(library.deps == std::vector<std::string>{"repo:npm-ci"});
  CHECK(contains(library.inputs, "libs/shared/src/**"));
  CHECK(contains(library.inputs, "tsconfig*.json"));

  const Step& build = findStep(steps, "gateway:build");
  CHECK_FALSE(build.shared);
  CHECK(build.argv ==
        std::vector<std::string>{"npm", "run", "build", "-w", "apps/gateway"});
  CHECK(build.outputs == std::vector<std::string>{"apps/gateway/dist"});
  CHECK(build.deps ==
        std::vector<std::string>{"repo:npm-ci", "repo:libs/shared:build"});
  CHECK(build.env.at("NODE_ENV") == "production");
  CHECK(contains(build.inputs, "apps/gateway/src/**"));
  CHECK(contains(build.inputs, "apps/gateway/tsconfig*.json"));
  CHECK(contains(build.inputs, "apps/gateway/nest-cli.json"));
  CHECK(contains(build.inputs, "apps/gateway/package.json"));
  CHECK(contains(build.tools, "node"));
}

TEST_CASE("nestjs production install steps", "[plugins][nestjs]") {
  PluginFixture repo;
  writeWorkspace(repo);
  std::vector<Step> steps =
      repo.expand(repo.target("gateway", "nestjs", "apps/gateway"));

  const Step& script = findStep(steps, "repo:prod-install-script");
  CHECK(script.kind == StepKind::kWriteFile);
  CHECK(script.outputs ==
        std::vector<std::string>{".kiln-out/prod-install.mjs"});
  CHECK_THAT(script.content, Catch::Contains("--omit=dev"));

  const Step& prod = findStep(steps, "repo:npm-ci-prod");
  CHECK(prod.shared);
  CHECK(prod.argv ==
        std::vector<std::string>{"node", ".kiln-out/prod-install.mjs",
                                 ".kiln-out/prod", "libs/shared:dist"});
  CHECK(prod.env.at("NODE_ENV") == "production");
  CHECK(contains(prod.deps, "repo:libs/shared:build"));
  CHECK(contains(prod.deps, "repo:prod-install-script"));
  CHECK_FALSE(contains(prod.deps, "repo:npm-ci"));
  // The runtime nested node_modules of apps/orders moves beside the root
  // one; its dev-only package does not make a directory of its own.
  CHECK(prod.outputs ==
        std::vector<std::string>{".kiln-out/prod/apps/orders/node_modules",
                                 ".kiln-out/prod/node_modules"});
  CHECK(contains(prod.inputs, "package-lock.json"));
}

TEST_CASE("nestjs shared steps agree across services", "[plugins][nestjs]") {
  PluginFixture repo;
  writeWorkspace(repo);
  TargetSpec gateway = repo.target("gateway", "nestjs", "apps/gateway");
  gateway.env["FEATURE"] = "on";
  std::vector<Step> first = repo.expand(gateway);
  std::vector<Step> second =
      repo.expand(repo.target("orders", "nestjs", "apps/orders"));
  for (const char* id : {"repo:npm-ci", "repo:libs/shared:build",
                         "repo:prod-install-script", "repo:npm-ci-prod"}) {
    INFO(id);
    CHECK(sameDefinition(findStep(first, id), findStep(second, id)));
  }
  CHECK(findStep(first, "gateway:build").env.at("FEATURE") == "on");
}

TEST_CASE("nestjs missing lockfile names the file", "[plugins][nestjs]") {
  PluginFixture repo;
  writeWorkspace(repo);
  std::filesystem::remove(repo.root() / "package-lock.json");
  try {
    repo.expand(repo.target("gateway", "nestjs", "apps/gateway"));
    FAIL("expected a UsageError");
  } catch (const UsageError& error) {
    CHECK_THAT(error.what(),
               Catch::Contains((repo.root() / "package-lock.json").string()));
    CHECK_THAT(error.hint(), Catch::Contains("npm install"));
    CHECK_THAT(error.hint(), Catch::Contains("package-lock.json"));
  }
}

TEST_CASE("nestjs missing build script", "[plugins][nestjs]") {
  PluginFixture repo;
  writeWorkspace(repo);
  repo.write("apps/gateway/package.json",
             R"({ "name": "@acme/gateway", "scripts": {} })");
  try {
    repo.expand(repo.target("gateway", "nestjs", "apps/gateway"));
    FAIL("expected a UsageError");
  } catch (const UsageError& error) {
    CHECK_THAT(error.what(), Catch::Contains("apps/gateway/package.json"));
    CHECK_THAT(error.what(), Catch::Contains("\"build\""));
  }
}

TEST_CASE("nestjs invalid port option", "[plugins][nestjs]") {
  PluginFixture repo;
  writeWorkspace(repo);
  CHECK_THROWS_AS(repo.expand(repo.target("gateway", "nestjs", "apps/gateway",
                                          "{ port: 70000 }")),
                  ConfigError);
}

TEST_CASE("nestjs monorepo application", "[plugins][nestjs]") {
  PluginFixture repo;
  repo.write("package.json", R"({ "name": "mono", "type": "module" })");
  repo.write("package-lock.json", R"({ "lockfileVersion": 3, "packages": {
    "": { "name": "mono" }, "node_modules/@nestjs/core": {} } })");
  repo.write("tsconfig.json", "{}");
  repo.write("nest-cli.json", R"({
    "monorepo": true, "root": "apps/gateway",
    "compilerOptions": { "builder": "rspack" },
    "projects": {
      "common": { "type": "library", "root": "libs/common",
                  "sourceRoot": "libs/common/src" },
      "gateway": { "type": "application", "root": "apps/gateway",
                   "entryFile": "main", "sourceRoot": "apps/gateway/src",
                   "compilerOptions": {
                     "tsConfigPath": "apps/gateway/tsconfig.app.json" } }
    } })");
  repo.write(
      "apps/gateway/tsconfig.app.json",
      R"({ "compilerOptions": { "outDir": "../../dist/apps/gateway" } })");
  repo.write("apps/gateway/src/main.ts", "\n");
  repo.write("apps/orders/src/main.ts", "\n");

  std::vector<Step> steps =
      repo.expand(repo.target("gateway", "nestjs", "apps/gateway"));
  CHECK(stepIds(steps) ==
        std::vector<std::string>{"repo:npm-ci", "repo:prod-install-script",
                                 "repo:npm-ci-prod", "gateway:build"});
  const Step& build = findStep(steps, "gateway:build");
  CHECK(build.workingDir.empty());
  CHECK(build.argv == std::vector<std::string>{"npm", "exec", "--no", "--",
                                               "nest", "build", "gateway"});
  CHECK(build.outputs == std::vector<std::string>{"dist/apps/gateway"});
  CHECK(contains(build.inputs, "apps/gateway/src/**"));
  CHECK(contains(build.inputs, "libs/common/src/**"));
  CHECK(contains(build.inputs, "nest-cli.json"));
  CHECK(build.deps == std::vector<std::string>{"repo:npm-ci"});

  // A directory that is not a project of nest-cli.json.
  try {
    repo.expand(repo.target("orders", "nestjs", "apps/orders"));
    FAIL("expected a UsageError");
  } catch (const UsageError& error) {
    CHECK_THAT(error.what(), Catch::Contains("nest-cli.json"));
    CHECK_THAT(error.what(), Catch::Contains("apps/orders"));
  }
}
