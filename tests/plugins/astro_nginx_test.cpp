// Expansion of the astro-nginx plugin and its nginx configuration.
#include <catch2/catch.hpp>

#include "plugins/astro_nginx.h"
#include "plugins/nginx_config.h"
#include "tests/plugins/plugin_fixture.h"
#include "util/error.h"

using namespace kiln;
using namespace kiln::test;

namespace {

void writeSite(const PluginFixture& repo) {
  repo.write("site/package.json",
             R"({ "name": "dev", "dependencies": { "astro": "~5.18.2" } })");
  repo.write("site/package-lock.json",
             R"({ "lockfileVersion": 3, "packages": { "": {} } })");
  repo.write("site/astro.config.mjs", "export default {};\n");
  repo.write("site/src/pages/index.astro", "<h1>hi</h1>\n");
}

}  // namespace

TEST_CASE("astro-nginx steps", "[plugins][astro]") {
  PluginFixture repo;
  writeSite(repo);
  std::vector<Step> steps =
      repo.expand(repo.target("dev", "astro-nginx", "site"));
  CHECK(stepIds(steps) == std::vector<std::string>{"repo/site:npm-ci",
                                                   "dev:nginx-conf",
                                                   "dev:build"});
  const Step& install = findStep(steps, "repo/site:npm-ci");
  CHECK(install.workingDir == "site");
  CHECK(install.outputs ==
        std::vector<std::string>{"site/node_modules", "!**/node_modules/.vite",
                                 "!**/node_modules/.vite-temp",
                                 "!**/node_modules/.astro",
                                 "!**/node_modules/.cache"});

  const Step& build = findStep(steps, "dev:build");
  CHECK(build.argv == std::vector<std::string>{"npm", "exec", "--no", "--",
                                               "astro", "build"});
  CHECK(build.env.at("ASTRO_TELEMETRY_DISABLED") == "1");
  CHECK(build.outputs == std::vector<std::string>{"site/dist"});
  CHECK(contains(build.inputs, "site/src/**"));
  CHECK(contains(build.inputs, "site/public/**"));
  CHECK(contains(build.inputs, "site/astro.config.*"));

  const Step& config = findStep(steps, "dev:nginx-conf");
  CHECK(config.kind == StepKind::kWriteFile);
  CHECK(config.outputs ==
        std::vector<std::string>{"site/.kiln-out/nginx.conf"});
  CHECK(config.deps.empty());
  CHECK_THAT(config.content, Catch::Contains("listen 8080;"));
  CHECK_THAT(config.content, Catch::Contains("root /usr/share/nginx/html;"));
}

TEST_CASE("astro-nginx options", "[plugins][astro]") {
  PluginFixture repo;
  writeSite(repo);
  std::vector<Step> steps = repo.expand(repo.target(
      "dev", "astro-nginx", "site", "{ port: 9090, root: /srv/site }"));
  const Step& config = findStep(steps, "dev:nginx-conf");
  CHECK_THAT(config.content, Catch::Contains("listen 9090;"));
  CHECK_THAT(config.content, Catch::Contains("root /srv/site;"));
  CHECK_THROWS_AS(
      repo.expand(repo.target("dev", "astro-nginx", "site", "{ port: 0 }")),
      ConfigError);
  CHECK_THROWS_AS(
      repo.expand(repo.target("dev", "astro-nginx", "site", "{ root: 'a b' }")),
      ConfigError);
}

TEST_CASE("astro-nginx needs astro", "[plugins][astro]") {
  PluginFixture repo;
  writeSite(repo);
  repo.write("site/package.json", R"({ "name": "dev" })");
  try {
    repo.expand(repo.target("dev", "astro-nginx", "site"));
    FAIL("expected a UsageError");
  } catch (const UsageError& error) {
    CHECK_THAT(error.what(), Catch::Contains("site/package.json"));
  }
}

TEST_CASE("nginx config for non-root", "[plugins][astro]") {
  StaticSiteConfig site;
  site.service = "support";
  std::string text = staticSiteNginxConfig(site);
  CHECK_THAT(text, Catch::Contains("pid /tmp/nginx.pid;"));
  CHECK_THAT(text, Catch::Contains("error_log stderr"));
  CHECK_THAT(text, Catch::Contains("client_body_temp_path /tmp/client_body;"));
  CHECK_THAT(text, Catch::Contains("gzip on;"));
  CHECK_THAT(text, Catch::Contains("text/css"));
  CHECK_THAT(text, Catch::Contains("image/svg+xml;"));
  CHECK_THAT(text, Catch::Contains("location /_astro/"));
  CHECK_THAT(text, Catch::Contains("public, max-age=31536000, immutable"));
  CHECK_THAT(text, Catch::Contains("\"no-cache\""));
  CHECK_THAT(text, Catch::Contains("location = /health"));
  CHECK_THAT(text, Catch::Contains("\"service\":\"support\""));
  CHECK_THAT(text, !Catch::Contains("\ndaemon "));
  CHECK_THAT(text, !Catch::Contains("\nuser "));
  CHECK_THAT(text, !Catch::Contains("include "));
}
