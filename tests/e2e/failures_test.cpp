// Broken projects. A compile error fails one target, and with -k the
// others finish. A misconfigured project stops kiln before anything runs
// (exit 2) with an error that names the file and the fix. Each test changes
// a git clone of the shared workspace.
#include <signal.h>

#include <catch2/catch.hpp>
#include <thread>

#include "tests/e2e/e2e_support.h"

using namespace kiln;
using namespace kiln::e2e;
namespace fs = std::filesystem;

TEST_CASE("typescript error fails one service", "[e2e]") {
  test::TempDir ws;
  cloneWorkspace(ws.path());
  replaceInFile(ws / "ngwenya-federation/apps/gateway/src/main.ts",
                "await bootstrap();",
                "const port: number = 'not a number';\nawait bootstrap();");
  test::RunResult result =
      runKilnOn(ws.path(), {"build", "-k", "gateway", "malets", "products"});
  INFO(result.output);
  CHECK(result.exitCode == 1);
  CHECK_THAT(result.output, Catch::Contains("FAILED gateway:build"));
  // tsc colors its messages, so the code and the text are checked apart.
  CHECK_THAT(result.output, Catch::Contains("TS2322"));
  CHECK_THAT(result.output,
             Catch::Contains("Type 'string' is not assignable to type "
                             "'number'"));
  CHECK(stepFinished(result.output, "malets:build"));
  CHECK(stepFinished(result.output, "products:build"));
  CHECK(fs::exists(ws / "ngwenya-federation/apps/malets/dist/main.js"));
}

TEST_CASE("rust compile error fails one binary", "[e2e]") {
  test::TempDir ws;
  cloneWorkspace(ws.path());
  fs::path main = ws / "ngwenya-federation/rust/auth/src/main.rs";
  test::writeFile(main, test::readText(main) +
                            "\nfn broken() -> u32 { \"not a number\" }\n");
  test::RunResult result =
      runKilnOn(ws.path(), {"build", "-k", "auth", "uchat"});
  INFO(result.output);
  CHECK(result.exitCode == 1);
  CHECK_THAT(result.output, Catch::Contains("FAILED auth:build"));
  CHECK_THAT(result.output, Catch::Contains("error[E0308]: mismatched types"));
  CHECK(stepFinished(result.output, "uchat:build"));
  CHECK(fs::exists(ws / "ngwenya-federation/rust/target/kiln/uchat"));
  CHECK_FALSE(fs::exists(ws / "ngwenya-federation/rust/target/kiln/auth"));
}

TEST_CASE("astro build error fails one site", "[e2e]") {
  test::TempDir ws;
  cloneWorkspace(ws.path());
  test::writeFile(ws / "ngwenya-dev/src/pages/broken.astro",
                  "---\nimport Missing from '../components/Missing.astro';\n"
                  "---\n<Missing />\n");
  test::RunResult result =
      runKilnOn(ws.path(), {"build", "-k", "dev", "support"});
  INFO(result.output);
  CHECK(result.exitCode == 1);
  CHECK_THAT(result.output, Catch::Contains("FAILED dev:build"));
  CHECK_THAT(result.output, Catch::Contains("Missing.astro"));
  CHECK(stepFinished(result.output, "support:build"));
}

TEST_CASE("missing lockfile stops the build", "[e2e]") {
  test::TempDir ws;
  cloneWorkspace(ws.path());
  fs::path lockfile = ws / "ngwenya-federation/package-lock.json";
  fs::remove(lockfile);
  test::RunResult result = runKilnOn(ws.path(), {"build", "gateway"});
  INFO(result.output);
  CHECK(result.exitCode == 2);
  CHECK_THAT(result.output, Catch::Contains(lockfile.string()));
  CHECK_THAT(result.output, Catch::Contains("npm install"));
  CHECK_THAT(result.output, !Catch::Contains("start "));
}

TEST_CASE("sveltekit without adapter-node stops", "[e2e]") {
  test::TempDir ws;
  cloneWorkspace(ws.path());
  fs::path manifest = ws / "ngwenya-front/package.json";
  replaceInFile(manifest, "\"@sveltejs/adapter-node\": \"~5.5.7\",", "");
  test::RunResult result = runKilnOn(ws.path(), {"build", "front"});
  INFO(result.output);
  CHECK(result.exitCode == 2);
  CHECK_THAT(result.output, Catch::Contains(manifest.string()));
  CHECK_THAT(result.output,
             Catch::Contains("npm install -D @sveltejs/adapter-node@^5.5"));
}

TEST_CASE("android without staging flavor stops", "[e2e]") {
  test::TempDir ws;
  cloneWorkspace(ws.path());
  fs::path gradle = ws / "ngwenya-mobile/android/app/build.gradle.kts";
  replaceInFile(gradle, "create(\"staging\")", "create(\"qa\")");
  test::RunResult result = runKilnOn(ws.path(), {"build", "android"});
  INFO(result.output);
  CHECK(result.exitCode == 2);
  CHECK_THAT(result.output, Catch::Contains(gradle.string()));
  CHECK_THAT(result.output, Catch::Contains("'staging' product flavor"));
  CHECK_THAT(result.output, Catch::Contains("GATEWAY_URL"));
}

TEST_CASE("interrupted sveltekit build changes no file", "[e2e]") {
  test::TempDir ws;
  cloneWorkspace(ws.path());
  fs::path front = ws / "ngwenya-front";
  std::string config = test::readText(front / "svelte.config.js");

  test::Background kiln = test::startKiln(
      {"-p", pipelineFile("staging.yaml").string(), "--workspace",
       ws.path().string(), "--output", "plain", "build", "front"},
      ws.path(), ws / "kiln.out",
      {{"KILN_CACHE_DIR", (fs::path(KILN_E2E_WORK) / "cache").string()}});
  // Stop the build once vite is running: front:build started a moment ago.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (kiln.output().find("start front:build") == std::string::npos &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  ::kill(kiln.pid, SIGINT);
  int status = kiln.wait(std::chrono::seconds(60));
  INFO(kiln.output());
  CHECK(status != -1);
  CHECK(test::readText(front / "svelte.config.js") == config);
  test::RunResult git = test::run({"git", "status", "--porcelain"}, front);
  CHECK(git.output.empty());
}
