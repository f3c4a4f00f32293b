// Base images that cannot be had end the build with a clear error, and no
// credential appears in any output or log.
#include <catch2/catch.hpp>
#include <fstream>

#include "tests/common/loopback_server.h"
#include "tests/images/registry_fixture.h"

using namespace kiln::test;
namespace fs = std::filesystem;

namespace {

void writePipeline(const fs::path& dir, const std::string& base) {
  writeFile(dir / "src/a.txt", "a\n");
  writeFile(dir / "kiln.yaml", R"(version: 1
repos:
  r: { path: . }
targets:
  - name: app
    plugin: command
    inputs: ["src/**"]
    outputs: [out]
    run: "mkdir -p out && cp src/a.txt out/"
    image: { base: ")" + base + R"(" }
)");
}

RunResult build(const fs::path& dir,
                std::map<std::string, std::string> env = {}) {
  env["KILN_CACHE_DIR"] = (dir / ".kiln/c").string();
  return runKiln({"build", "--output", "plain"}, dir, env);
}

void pushGlibcBase(const Registry& registry, const std::string& creds = {}) {
  std::vector<std::string> argv = {
      "skopeo", "copy", "--dest-tls-verify=false", baseImage("glibc"),
      "docker://" + registry.host() + "/bases/glibc:1"};
  if (!creds.empty()) {
    argv.insert(argv.begin() + 2, "--dest-creds=" + creds);
  }
  RunResult copied = run(argv, fs::temp_directory_path());
  INFO(copied.output);
  REQUIRE(copied.exitCode == 0);
}

}  // namespace

TEST_CASE("base that does not exist fails clearly", "[images]") {
  Registry registry;
  TempDir dir;
  writePipeline(dir.path(), "http://" + registry.host() + "/bases/none:1");
  RunResult result = build(dir.path());
  INFO(result.output);
  CHECK(result.exitCode == 1);
  CHECK_THAT(result.output, Catch::Contains("FAILED app:image"));
  CHECK_THAT(result.output, Catch::Contains("not found"));
}

TEST_CASE("registry that is down fails clearly", "[images]") {
  TempDir dir;
  int port = findFreePort();
  writePipeline(dir.path(),
                "http://127.0.0.1:" + std::to_string(port) + "/bases/glibc:1");
  RunResult result = build(dir.path());
  INFO(result.output);
  CHECK(result.exitCode == 1);
  CHECK_THAT(result.output,
             Catch::Contains("127.0.0.1:" + std::to_string(port)));
  CHECK_THAT(result.output, Catch::Contains("connect"));
}

TEST_CASE("refused credential fails without leaking", "[images]") {
  Registry registry("ci:right-password");
  pushGlibcBase(registry, "ci:right-password");
  TempDir dir;
  TempDir docker;
  // "ci:wrong-password" in base64.
  writeFile(docker / "config.json",
            R"({"auths":{")" + registry.host() +
                R"(":{"auth":"Y2k6d3JvbmctcGFzc3dvcmQ="}}})");
  writePipeline(dir.path(), "http://" + registry.host() + "/bases/glibc:1");
  RunResult result =
      build(dir.path(), {{"DOCKER_CONFIG", docker.path().string()}});
  INFO(result.output);
  CHECK(result.exitCode == 1);
  CHECK_THAT(result.output, Catch::Contains("FAILED app:image"));
  CHECK_THAT(result.output, !Catch::Contains("wrong-password"));
  CHECK_THAT(result.output, !Catch::Contains("Y2k6d3JvbmctcGFzc3dvcmQ"));
  for (const auto& log : fs::directory_iterator(dir / ".kiln/logs")) {
    CHECK_THAT(readText(log.path()), !Catch::Contains("wrong-password"));
  }

  writeFile(docker / "config.json",
            R"({"auths":{")" + registry.host() +
                R"(":{"auth":"Y2k6cmlnaHQtcGFzc3dvcmQ="}}})");
  RunResult good =
      build(dir.path(), {{"DOCKER_CONFIG", docker.path().string()}});
  INFO(good.output);
  CHECK(good.exitCode == 0);
  CHECK(fs::exists(dir / "kiln-bases.lock.json"));
}

TEST_CASE("base blob with wrong bytes fails", "[images]") {
  Registry registry;
  pushGlibcBase(registry);
  // Flip a byte in the middle of the largest blob (the layer) as the
  // registry stores it.
  fs::path largest;
  for (const auto& entry :
       fs::recursive_directory_iterator(registry.dataDir())) {
    if (entry.is_regular_file() && entry.path().filename() == "data" &&
        (largest.empty() || entry.file_size() > fs::file_size(largest))) {
      largest = entry.path();
    }
  }
  REQUIRE_FALSE(largest.empty());
  REQUIRE(fs::file_size(largest) > 100000);
  {
    std::fstream blob(largest, std::ios::in | std::ios::out | std::ios::binary);
    blob.seekg(static_cast<std::streamoff>(fs::file_size(largest) / 2));
    char byte = 0;
    blob.get(byte);
    blob.seekp(static_cast<std::streamoff>(fs::file_size(largest) / 2));
    blob.put(static_cast<char>(byte ^ 0x55));
  }
  TempDir dir;
  writePipeline(dir.path(), "http://" + registry.host() + "/bases/glibc:1");
  RunResult result = build(dir.path());
  INFO(result.output);
  CHECK(result.exitCode == 1);
  CHECK_THAT(result.output, Catch::Contains("FAILED app:image"));
  CHECK_THAT(result.output, Catch::Contains("expected sha256:"));
  CHECK_FALSE(fs::exists(dir / ".kiln/images/kiln-images.lock.json"));
}

TEST_CASE("base tag stays pinned until update", "[images]") {
  Registry registry;
  pushGlibcBase(registry);
  TempDir dir;
  writePipeline(dir.path(), "http://" + registry.host() + "/bases/glibc:1");
  RunResult first = build(dir.path());
  INFO(first.output);
  REQUIRE(first.exitCode == 0);
  std::string lock = readText(dir / "kiln-bases.lock.json");
  std::string image = readText(dir / ".kiln/images/kiln-images.lock.json");

  // The tag moves to another image; the pin does not follow it.
  RunResult moved =
      run({"skopeo", "copy", "--dest-tls-verify=false", baseImage("nginx"),
           "docker://" + registry.host() + "/bases/glibc:1"},
          dir.path());
  REQUIRE(moved.exitCode == 0);
  fs::remove_all(dir / "out");
  RunResult second = build(dir.path(), {});
  INFO(second.output);
  CHECK(second.exitCode == 0);
  CHECK(readText(dir / "kiln-bases.lock.json") == lock);
  CHECK(readText(dir / ".kiln/images/kiln-images.lock.json") == image);

  RunResult update = runKiln({"bases", "update"}, dir.path(),
                             {{"KILN_CACHE_DIR", (dir / ".kiln/c").string()}});
  INFO(update.output);
  CHECK(update.exitCode == 0);
  CHECK_THAT(update.output, Catch::Contains("1 base image pins changed"));
  CHECK(readText(dir / "kiln-bases.lock.json") != lock);
  RunResult third = build(dir.path());
  INFO(third.output);
  CHECK(third.exitCode == 0);
  CHECK(readText(dir / ".kiln/images/kiln-images.lock.json") != image);
}
