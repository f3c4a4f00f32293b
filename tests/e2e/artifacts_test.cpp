// Starts what the fixture's full build wrote and checks that each artifact
// serves its health route on loopback.
#include <catch2/catch.hpp>
#include <memory>

#include "tests/e2e/e2e_support.h"

using namespace kiln;
using namespace kiln::e2e;
namespace fs = std::filesystem;

namespace {

std::vector<std::string> nestServices() {
  std::vector<std::string> names;
  for (const auto& entry :
       fs::directory_iterator(sharedWorkspace() / "ngwenya-federation/apps")) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

// One service started on a free loopback port.
struct Running {
  std::string name;
  int port = 0;
  std::unique_ptr<Server> server;
};

void checkHealth(Running& service, const std::string& path = "/health") {
  HttpResponse response = waitForOk(*service.server, service.port, path);
  INFO(service.name << " log:\n" << service.server->log());
  INFO("curl: " << response.error);
  CHECK(response.status == 200);
  CHECK_THAT(response.body, Catch::Contains("\"status\":\"ok\""));
  CHECK_THAT(response.body,
             Catch::Contains("\"service\":\"" + service.name + "\""));
}

}  // namespace

TEST_CASE("fixture build succeeded", "[e2e]") {
  std::string output = firstBuildOutput();
  INFO(output);
  // A cache left by an earlier run of the tests may restore every step.
  CHECK(stepFinished(output, "gateway:build"));
  CHECK(stepFinished(output, "federation:npm-ci-prod"));
  CHECK(stepFinished(output, "front:build"));
  CHECK(stepFinished(output, "auth:build"));
  CHECK(stepFinished(output, "dev:nginx-conf"));
  CHECK_THAT(output, !Catch::Contains("FAILED"));
  CHECK_THAT(output, !Catch::Contains("kiln: build failed"));
}

TEST_CASE("nestjs services start from production layout", "[e2e]") {
  // The layout of an image: the shared production node_modules at the
  // root and each service's dist/ and package.json in its own folder. The
  // copies keep Node from resolving packages through the repository.
  fs::path federation = sharedWorkspace() / "ngwenya-federation";
  test::TempDir dir;
  copyTree(federation / ".kiln-out/prod/node_modules", dir / "node_modules");
  CHECK(fs::is_directory(dir / "node_modules/@ngwenya/shared/dist"));
  CHECK_FALSE(fs::is_symlink(dir / "node_modules/@ngwenya/shared"));
  CHECK_FALSE(fs::exists(dir / "node_modules/@ngwenya/gateway"));
  CHECK_FALSE(fs::exists(dir / "node_modules/typescript"));
  CHECK_FALSE(fs::exists(dir / "node_modules/@nestjs/cli"));

  std::vector<Running> services;
  for (const auto& name : nestServices()) {
    fs::path app = federation / "apps" / name;
    copyTree(app / "dist", dir / name / "dist");
    fs::copy_file(app / "package.json", dir / name / "package.json");
    Running service;
    service.name = name;
    service.port = freePort();
    service.server = std::make_unique<Server>(
        std::vector<std::string>{"node", "dist/main.js"}, dir / name,
        std::map<std::string, std::string>{
            {"NODE_ENV", "production"},
            {"HOST", "127.0.0.1"},
            {"PORT", std::to_string(service.port)}},
        dir / (name + ".log"));
    services.push_back(std::move(service));
  }
  CHECK(services.size() == 19);
  for (auto& service : services) {
    checkHealth(service);
  }
}

TEST_CASE("rust services start from their binaries", "[e2e]") {
  fs::path kilnOut = sharedWorkspace() / "ngwenya-federation/rust/target/kiln";
  test::TempDir dir;
  std::vector<Running> services;
  for (const char* name : {"auth", "uchat", "intelligence", "tower"}) {
    fs::copy_file(kilnOut / name, dir / name);
    Running service;
    service.name = name;
    service.port = freePort();
    service.server = std::make_unique<Server>(
        std::vector<std::string>{(dir / name).string()}, dir.path(),
        std::map<std::string, std::string>{
            {"HOST", "127.0.0.1"}, {"PORT", std::to_string(service.port)}},
        dir / (std::string(name) + ".log"));
    services.push_back(std::move(service));
  }
  for (auto& service : services) {
    checkHealth(service);
  }
}

TEST_CASE("sveltekit server starts from build", "[e2e]") {
  fs::path front = sharedWorkspace() / "ngwenya-front";
  test::TempDir dir;
  copyTree(front / "build", dir / "build");
  fs::copy_file(front / "package.json", dir / "package.json");
  CHECK_FALSE(fs::exists(front / ".kiln-out/prod/node_modules"));

  Running service;
  service.name = "front";
  service.port = freePort();
  service.server = std::make_unique<Server>(
      std::vector<std::string>{"node", "build"}, dir.path(),
      std::map<std::string, std::string>{
          {"NODE_ENV", "production"},
          {"HOST", "127.0.0.1"},
          {"PORT", std::to_string(service.port)}},
      dir / "front.log");
  checkHealth(service);
  HttpResponse page = httpGet(service.port, "/services");
  CHECK(page.status == 200);
  CHECK_THAT(page.body, Catch::Contains("<html"));
}

TEST_CASE("astro sites served by nginx", "[e2e]") {
  for (const char* site : {"dev", "support"}) {
    DYNAMIC_SECTION(site) {
      fs::path repo = sharedWorkspace() / ("ngwenya-" + std::string(site));
      fs::path generated = repo / ".kiln-out/nginx.conf";
      REQUIRE(fs::exists(generated));

      // nginx started as root runs its workers as "nobody", which must be
      // able to read the site.
      test::TempDir dir;
      fs::permissions(dir.path(), fs::perms::owner_all | fs::perms::group_read |
                                      fs::perms::group_exec |
                                      fs::perms::others_read |
                                      fs::perms::others_exec);
      copyTree(repo / "dist", dir / "html");
      test::RunResult syntax =
          test::run({"nginx", "-t", "-q", "-p", dir.path().string(), "-c",
                     generated.string()},
                    dir.path());
      INFO(syntax.output);
      CHECK(syntax.exitCode == 0);

      // The generated file, moved to this test's port, folder and pid file.
      int port = freePort();
      std::string config = test::readText(generated);
      auto swap = [&](const std::string& from, const std::string& to) {
        std::size_t found = config.find(from);
        REQUIRE(found != std::string::npos);
        config.replace(found, from.size(), to);
      };
      swap("listen 8080;", "listen 127.0.0.1:" + std::to_string(port) + ";");
      swap("root /usr/share/nginx/html;",
           "root " + (dir / "html").string() + ";");
      swap("pid /tmp/nginx.pid;", "pid " + (dir / "nginx.pid").string() + ";");
      for (const char* temp :
           {"client_body", "proxy", "fastcgi", "uwsgi", "scgi"}) {
        swap(std::string("/tmp/") + temp + ";", (dir / temp).string() + ";");
      }
      test::writeFile(dir / "nginx.conf", config);

      Running nginx;
      nginx.name = site;
      nginx.port = port;
      nginx.server = std::make_unique<Server>(
          std::vector<std::string>{"nginx", "-p", dir.path().string(), "-c",
                                   (dir / "nginx.conf").string(), "-g",
                                   "daemon off;"},
          dir.path(), std::map<std::string, std::string>{}, dir / "nginx.log");
      HttpResponse health = waitForOk(*nginx.server, port, "/health");
      INFO(nginx.server->log());
      CHECK(health.status == 200);
      CHECK_THAT(health.headers["content-type"],
                 Catch::StartsWith("application/json"));
      CHECK_THAT(health.body, Catch::Contains("\"status\":\"ok\""));

      const std::map<std::string, std::string> gzip = {
          {"Accept-Encoding", "gzip"}};
      HttpResponse html = httpGet(port, "/", gzip);
      CHECK(html.status == 200);
      CHECK(html.headers["content-encoding"] == "gzip");
      CHECK(html.headers["cache-control"] == "no-cache");
      CHECK_THAT(html.headers["content-type"], Catch::StartsWith("text/html"));

      std::string stylesheet;
      for (const auto& entry : fs::directory_iterator(dir / "html/_astro")) {
        if (entry.path().extension() == ".css") {
          stylesheet = entry.path().filename().string();
        }
      }
      REQUIRE_FALSE(stylesheet.empty());
      HttpResponse css = httpGet(port, "/_astro/" + stylesheet, gzip);
      CHECK(css.status == 200);
      CHECK(css.headers["content-encoding"] == "gzip");
      CHECK(css.headers["cache-control"] ==
            "public, max-age=31536000, immutable");
      CHECK_THAT(css.headers["content-type"], Catch::StartsWith("text/css"));

      HttpResponse plain = httpGet(port, "/_astro/" + stylesheet);
      CHECK(plain.headers.count("content-encoding") == 0);
      CHECK(httpGet(port, "/no-such-page").status == 404);
    }
  }
}

TEST_CASE("mobile targets end skipped", "[e2e]") {
  std::string output = firstBuildOutput();
  INFO(output);
  CHECK_THAT(output,
             Catch::Contains("skipped android:build: Android SDK not found: "
                             "set ANDROID_HOME"));
  CHECK_THAT(output, Catch::Contains("skipped ios:build: xcodebuild not "
                                     "found"));
}

TEST_CASE("build leaves repositories clean", "[e2e]") {
  for (const auto& repo : kRepositories) {
    test::RunResult status =
        test::run({"git", "status", "--porcelain"}, sharedWorkspace() / repo);
    INFO(repo);
    CHECK(status.exitCode == 0);
    CHECK(status.output.empty());
  }
}

TEST_CASE("staging-lite builds the critical path", "[e2e]") {
  test::RunResult result =
      runKilnOn(sharedWorkspace(), {"build", "--dry-run"}, "staging-lite.yaml");
  INFO(result.output);
  REQUIRE(result.exitCode == 0);
  for (const char* step :
       {"gateway:build", "malets:build", "products:build", "ucart:build",
        "nodes:build", "auth:build", "front:build", "federation:npm-ci-prod"}) {
    CHECK_THAT(result.output, Catch::Contains(std::string(step) + ": "));
  }
  for (const char* step :
       {"orders:build", "uchat:build", "dev:build", "android:build"}) {
    CHECK_THAT(result.output, !Catch::Contains(std::string(step) + ": "));
  }
}
