// Images built by kiln from a pipeline, checked with skopeo, umoci, a
// loopback docker-registry and podman.
#include <yaml-cpp/yaml.h>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <thread>

#include "tests/common/loopback_server.h"
#include "tests/images/registry_fixture.h"

using namespace kiln::test;
namespace fs = std::filesystem;

namespace {

// Two images: a Node server on the node20 base, and a static file on
// scratch. `compression` is gzip or zstd.
void writeWorkspace(const fs::path& dir, const std::string& compression,
                    int port) {
  writeFile(dir / "src/server.js",
            "require('http').createServer((q, r) => {\n"
            "  r.setHeader('content-type', 'application/json');\n"
            "  r.end(JSON.stringify({status: 'ok', service: 'api'}));\n"
            "}).listen(process.env.PORT, '127.0.0.1');\n");
  writeFile(dir / "static/index.html", "<h1>hello</h1>\n");
  writeFile(dir / "kiln.yaml", R"(version: 1
repos:
  r: { path: . }
targets:
  - name: api
    plugin: command
    inputs: ["src/**"]
    outputs: [dist]
    run: "mkdir -p dist/lib && cp src/server.js dist/server.js && ln -sf ../server.js dist/lib/entry.js"
    image:
      base: ")" + baseImage("node20") +
                                   R"("
      tag: staging
      compression: )" + compression +
                                   R"(
      env: { NODE_ENV: production, PORT: ")" +
                                   std::to_string(port) + R"(" }
      cmd: [node, dist/server.js]
      ports: [")" + std::to_string(port) +
                                   R"("]
  - name: site
    plugin: command
    inputs: ["static/**"]
    outputs: [public]
    run: "mkdir -p public && cp static/index.html public/"
    image:
      tag: staging
      service: web
      compression: )" + compression +
                                   R"(
)");
}

nlohmann::json readLock(const fs::path& dir) {
  return nlohmann::json::parse(
      readText(dir / ".kiln/images/kiln-images.lock.json"));
}

std::map<std::string, std::string> digests(const fs::path& dir) {
  std::map<std::string, std::string> result;
  nlohmann::json lock = readLock(dir);
  for (const auto& image : lock["images"]) {
    result[image["name"]] = image["digest"];
  }
  return result;
}

RunResult kilnIn(const fs::path& dir, std::vector<std::string> args) {
  return runKiln(args, dir, {{"KILN_CACHE_DIR", (dir / ".kiln/c").string()}});
}

}  // namespace

TEST_CASE("built images inspect and push", "[images]") {
  TempDir dir;
  writeWorkspace(dir.path(), "gzip", findFreePort());
  RunResult build = kilnIn(dir.path(), {"build", "--output", "plain"});
  INFO(build.output);
  REQUIRE(build.exitCode == 0);
  std::map<std::string, std::string> built = digests(dir.path());
  REQUIRE(built.size() == 2);

  fs::path layout = dir / ".kiln/images/layout";
  for (const auto& [name, digest] : built) {
    RunResult inspect =
        run({"skopeo", "inspect", "oci:" + layout.string() + ":" + name},
            dir.path());
    INFO(inspect.output);
    CHECK(inspect.exitCode == 0);
    CHECK(nlohmann::json::parse(inspect.output)["Digest"] == digest);
  }

  RunResult unpack = run({"umoci", "unpack", "--image",
                          layout.string() + ":api", (dir / "bundle").string()},
                         dir.path());
  INFO(unpack.output);
  CHECK(unpack.exitCode == 0);
  CHECK(readText(dir / "bundle/rootfs/app/dist/server.js") ==
        readText(dir / "src/server.js"));
  CHECK(fs::is_symlink(dir / "bundle/rootfs/app/dist/lib/entry.js"));
  CHECK(fs::exists(dir / "bundle/rootfs/usr/bin/node"));
  nlohmann::json runtime =
      nlohmann::json::parse(readText(dir / "bundle/config.json"));
  CHECK(runtime["process"]["user"]["uid"] == 10001);
  CHECK(runtime["process"]["cwd"] == "/app");

  Registry registry;
  RunResult push =
      kilnIn(dir.path(), {"push", "http://" + registry.host() + "/ngwenya"});
  INFO(push.output);
  REQUIRE(push.exitCode == 0);
  int uploads = registry.blobUploads();
  CHECK(uploads >= 3);
  for (const auto& [name, digest] : built) {
    std::string reference = registry.host() + "/ngwenya/" + name;
    CHECK_THAT(push.output, Catch::Contains(reference + "@" + digest));
    RunResult remote = run({"skopeo", "inspect", "--tls-verify=false",
                            "docker://" + reference + ":staging"},
                           dir.path());
    INFO(remote.output);
    CHECK(remote.exitCode == 0);
    CHECK(nlohmann::json::parse(remote.output)["Digest"] == digest);
  }
  RunResult again =
      kilnIn(dir.path(), {"push", "http://" + registry.host() + "/ngwenya"});
  CHECK(again.exitCode == 0);
  CHECK(registry.blobUploads() == uploads);
  CHECK(readLock(dir.path())["images"][0]["image"].get<std::string>().rfind(
            registry.host(), 0) == 0);

  // A no-op build keeps the pushed references and rewrites neither file.
  std::string lockBefore = readText(dir / ".kiln/images/kiln-images.lock.json");
  RunResult noop = kilnIn(dir.path(), {"build", "--output", "plain"});
  INFO(noop.output);
  REQUIRE(noop.exitCode == 0);
  CHECK(readText(dir / ".kiln/images/kiln-images.lock.json") == lockBefore);
  CHECK_THAT(noop.output, !Catch::Contains("kiln-images.lock.json"));
}

TEST_CASE("image digests are reproducible", "[images]") {
  for (std::string compression : {"gzip", "zstd"}) {
    DYNAMIC_SECTION(compression) {
      TempDir first;
      TempDir second;
      int port = 18000;
      writeWorkspace(first.path(), compression, port);
      writeWorkspace(second / "other/place", compression, port);
      REQUIRE(kilnIn(first.path(), {"build"}).exitCode == 0);
      // Other mtimes and atimes on every file of the second clone.
      run({"sh", "-c",
           "find . -exec touch -d '2001-02-03 04:05:06' {} + && sleep 1"},
          second / "other/place");
      REQUIRE(kilnIn(second / "other/place", {"build"}).exitCode == 0);
      std::map<std::string, std::string> a = digests(first.path());
      std::map<std::string, std::string> b = digests(second / "other/place");
      REQUIRE(a.size() == 2);
      CHECK(a == b);
    }
  }
}

TEST_CASE("archives load into podman and run", "[images]") {
  TempDir dir;
  int port = findFreePort();
  writeWorkspace(dir.path(), "gzip", port);
  RunResult build =
      kilnIn(dir.path(), {"build", "--docker-archive", "--oci-archive"});
  INFO(build.output);
  REQUIRE(build.exitCode == 0);

  YAML::Node compose =
      YAML::LoadFile((dir / ".kiln/images/compose.override.yaml").string());
  std::map<std::string, std::string> built = digests(dir.path());
  CHECK(compose["services"]["api"]["image"].as<std::string>() ==
        "kiln/api:staging@" + built["api"]);
  CHECK(compose["services"]["web"]["image"].as<std::string>() ==
        "kiln/site:staging@" + built["site"]);

  TempDir podmanDir;
  std::string podman =
      std::string(KILN_SOURCE_DIR) + "/tests/support/podman.sh";
  for (const auto& name : {"api", "site"}) {
    RunResult load = run(
        {"bash", podman, "load", "-i",
         (dir / ".kiln/images/archives" / (std::string(name) + ".docker.tar"))
             .string()},
        dir.path(), {{"KILN_PODMAN_DIR", podmanDir.path()}});
    INFO(load.output);
    CHECK(load.exitCode == 0);
  }
  RunResult images =
      run({"bash", podman, "images", "--format", "{{.Repository}}:{{.Tag}}"},
          dir.path(), {{"KILN_PODMAN_DIR", podmanDir.path()}});
  INFO(images.output);
  CHECK_THAT(images.output, Catch::Contains("kiln/api:staging"));
  CHECK_THAT(images.output, Catch::Contains("kiln/site:staging"));

  RunResult started = run({"bash", podman, "run", "-d", "kiln/api:staging"},
                          dir.path(), {{"KILN_PODMAN_DIR", podmanDir.path()}});
  INFO(started.output);
  REQUIRE(started.exitCode == 0);
  std::string container = started.output.substr(0, 64);
  std::string body;
  for (int i = 0; i < 50 && body.empty(); ++i) {
    body = run({"curl", "-s", "--max-time", "1",
                "http://127.0.0.1:" + std::to_string(port) + "/health"},
               dir.path())
               .output;
    if (body.empty()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  }
  run({"bash", podman, "rm", "-f", "-t", "0", container}, dir.path(),
      {{"KILN_PODMAN_DIR", podmanDir.path()}});
  CHECK(body == "{\"status\":\"ok\",\"service\":\"api\"}");
}
