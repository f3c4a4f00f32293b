// Expansion of the sveltekit plugin.
#include <catch2/catch.hpp>

#include "plugins/sveltekit.h"
#include "tests/plugins/plugin_fixture.h"
#include "util/error.h"

using namespace kiln;
using namespace kiln::test;

namespace {

void writeApp(const PluginFixture& repo, const std::string& adapterImport,
              const std::string& extraDependencies = "") {
  repo.write("package.json", R"({
    "name": "front", "type": "module", "scripts": { "build": "vite build" },
    "devDependencies": { "@sveltejs/adapter-auto": "^7.0.1",
                         "@sveltejs/adapter-node": "~5.5.7",
                         "@sveltejs/kit": "~2.70.4" })" +
                                 extraDependencies + "}");
  repo.write("package-lock.json",
             R"({ "lockfileVersion": 3, "packages": { "": {} } })");
  repo.write("svelte.config.js",
             "// adapter-auto picks an adapter\nimport adapter from '" +
                 adapterImport +
                 "';\nexport default { kit: { adapter: adapter() } };\n");
  repo.write("src/routes/+page.svelte", "<h1>hi</h1>\n");
}

}  // namespace

TEST_CASE("sveltekit adapter-auto gets the hook", "[plugins][sveltekit]") {
  PluginFixture repo;
  writeApp(repo, "@sveltejs/adapter-auto");
  std::vector<Step> steps = repo.expand(repo.target("front", "sveltekit", ""));
  CHECK(stepIds(steps) ==
        std::vector<std::string>{"repo:npm-ci", "front:build"});
  const Step& build = findStep(steps, "front:build");
  CHECK(build.argv == std::vector<std::string>{"npm", "run", "build"});
  CHECK(build.env.at("NODE_OPTIONS") == adapterNodeHookOption());
  CHECK(build.env.at("NODE_ENV") == "production");
  CHECK(build.outputs == std::vector<std::string>{"build"});
  CHECK(build.deps == std::vector<std::string>{"repo:npm-ci"});
  for (const char* input : {"src/**", "static/**", "svelte.config.*",
                            "vite.config.*", "package.json"}) {
    INFO(input);
    CHECK(contains(build.inputs, input));
  }
  // The option is one word (NODE_OPTIONS splits on spaces) and names both
  // adapters.
  std::string hook = adapterNodeHookOption();
  CHECK(hook.find(' ') == std::string::npos);
  CHECK_THAT(hook, Catch::StartsWith("--import=data:text/javascript,"));
  CHECK_THAT(hook, Catch::Contains("adapter-auto"));
  CHECK_THAT(hook, Catch::Contains("adapter-node"));
}

TEST_CASE("sveltekit adapter-node needs no hook", "[plugins][sveltekit]") {
  PluginFixture repo;
  writeApp(repo, "@sveltejs/adapter-node");
  std::vector<Step> steps = repo.expand(repo.target("front", "sveltekit", ""));
  CHECK(findStep(steps, "front:build").env.count("NODE_OPTIONS") == 0);
}

TEST_CASE("sveltekit runtime dependencies", "[plugins][sveltekit]") {
  PluginFixture repo;
  writeApp(repo, "@sveltejs/adapter-auto",
           R"(, "dependencies": { "pg": "^8.0.0" })");
  std::vector<Step> steps = repo.expand(repo.target("front", "sveltekit", ""));
  CHECK(stepIds(steps) ==
        std::vector<std::string>{"repo:npm-ci", "repo:prod-install-script",
                                 "repo:npm-ci-prod", "front:build"});
  CHECK(findStep(steps, "repo:npm-ci-prod").outputs ==
        std::vector<std::string>{".kiln-out/prod/node_modules"});
}

TEST_CASE("sveltekit without adapter-node", "[plugins][sveltekit]") {
  PluginFixture repo;
  writeApp(repo, "@sveltejs/adapter-auto");
  repo.write("package.json", R"({
    "name": "front", "scripts": { "build": "vite build" },
    "devDependencies": { "@sveltejs/adapter-auto": "^7.0.1" } })");
  try {
    repo.expand(repo.target("front", "sveltekit", ""));
    FAIL("expected a UsageError");
  } catch (const UsageError& error) {
    CHECK_THAT(error.what(),
               Catch::Contains((repo.root() / "package.json").string()));
    CHECK_THAT(error.hint(),
               Catch::Contains("npm install -D @sveltejs/adapter-node@^5.5"));
  }
}

TEST_CASE("sveltekit other adapter rejected", "[plugins][sveltekit]") {
  PluginFixture repo;
  writeApp(repo, "@sveltejs/adapter-static");
  try {
    repo.expand(repo.target("front", "sveltekit", ""));
    FAIL("expected a UsageError");
  } catch (const UsageError& error) {
    CHECK_THAT(error.what(), Catch::Contains("svelte.config.js"));
    CHECK_THAT(error.what(), Catch::Contains("@sveltejs/adapter-static"));
  }
}
