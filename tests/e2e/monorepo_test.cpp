// A Nest CLI monorepo (examples/nest-monorepo) built by the nestjs plugin
// and started from the production layout.
#include <catch2/catch.hpp>

#include "tests/e2e/e2e_support.h"

using namespace kiln;
using namespace kiln::e2e;
namespace fs = std::filesystem;

TEST_CASE("nest monorepo application starts", "[e2e]") {
  test::TempDir ws;
  copyTree(fs::path(KILN_SOURCE_DIR) / "examples/nest-monorepo",
           ws / "nest-monorepo");
  fs::remove_all(ws / "nest-monorepo/node_modules");
  fs::remove_all(ws / "nest-monorepo/dist");
  test::gitInitCommit(ws / "nest-monorepo");
  test::writeFile(ws / "kiln.yaml",
                  "version: 1\nrepos:\n  mono: { path: nest-monorepo }\n"
                  "targets:\n  - discover: { repo: mono, dir: \"apps/*\", "
                  "plugin: nestjs }\n");
  test::RunResult result = test::runKiln(
      {"--output", "plain", "build", "gateway"}, ws.path(),
      {{"KILN_CACHE_DIR", (fs::path(KILN_E2E_WORK) / "cache").string()}});
  INFO(result.output);
  REQUIRE(result.exitCode == 0);
  CHECK_THAT(result.output, Catch::Contains("gateway:build"));
  CHECK_THAT(result.output, !Catch::Contains("orders:build"));

  // The image layout: production node_modules, the application's bundle
  // and the root package.json ("type": "module").
  fs::path repo = ws / "nest-monorepo";
  test::TempDir run;
  copyTree(repo / ".kiln-out/prod/node_modules", run / "node_modules");
  copyTree(repo / "dist/apps/gateway", run / "dist/apps/gateway");
  fs::copy_file(repo / "package.json", run / "package.json");
  CHECK_FALSE(fs::exists(run / "node_modules/@nestjs/cli"));

  int port = freePort();
  Server server({"node", "dist/apps/gateway/main.js"}, run.path(),
                {{"NODE_ENV", "production"},
                 {"HOST", "127.0.0.1"},
                 {"PORT", std::to_string(port)}},
                run / "gateway.log");
  HttpResponse health = waitForOk(server, port, "/health");
  INFO(server.log());
  CHECK(health.status == 200);
  CHECK_THAT(health.body, Catch::Contains("\"service\":\"gateway\""));
}
