// The cache must never give a wrong result: concurrent writers, corrupt
// blobs, crafted entries and eviction during a build.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "tests/cache/cache_helpers.h"

using namespace kiln::test;
namespace fs = std::filesystem;

namespace {

std::vector<fs::path> blobFiles(const fs::path& cache) {
  std::vector<fs::path> blobs;
  for (const auto& entry : fs::recursive_directory_iterator(cache / "cas")) {
    if (entry.is_regular_file()) {
      blobs.push_back(entry.path());
    }
  }
  return blobs;
}

std::string sha256Hex(const std::string& text, const fs::path& scratch) {
  writeFile(scratch, text);
  RunResult result =
      run({"sha256sum", scratch.string()}, scratch.parent_path());
  return result.output.substr(0, 64);
}

// Writes `text` as a zstd blob named by its digest into the cache.
std::string putBlob(const fs::path& cache, const std::string& text,
                    const fs::path& scratchDir) {
  fs::path plain = scratchDir / "blob.plain";
  std::string digest = sha256Hex(text, plain);
  fs::path target = cache / "cas" / digest.substr(0, 2) / digest;
  fs::create_directories(target.parent_path());
  fs::remove(target);
  RunResult zstd = run(
      {"zstd", "-q", "-f", plain.string(), "-o", target.string()}, scratchDir);
  REQUIRE(zstd.exitCode == 0);
  return digest;
}

std::string actionKey(const fs::path& dir, const fs::path& cache,
                      const std::string& step) {
  RunResult plan = runKiln({"build", "--dry-run", "--json"}, dir,
                           {{"KILN_CACHE_DIR", cache.string()}});
  REQUIRE(plan.exitCode == 0);
  nlohmann::json document = nlohmann::json::parse(plan.output);
  for (const auto& item : document["steps"]) {
    if (item["id"] == step) {
      return item["key"];
    }
  }
  FAIL("no step " << step);
  return {};
}

const char* kSimplePipeline = R"(version: 1
repos:
  r: { path: . }
targets:
  - name: gen
    plugin: command
    inputs: ["src/**"]
    outputs: [out]
    run: "mkdir -p out && cp src/data.txt out/data.txt && seq 1 2000 > out/numbers.txt"
)";

}  // namespace

TEST_CASE("four concurrent builds share one cache", "[cache]") {
  TempDir root;
  TempDir cache;
  std::vector<Background> builds;
  for (int i = 0; i < 4; ++i) {
    fs::path clone = root / ("clone" + std::to_string(i));
    writeFile(clone / "src/data.txt", "shared content\n");
    writeFile(clone / "kiln.yaml", std::string(kSimplePipeline) +
                                       R"(  - name: second
    plugin: command
    deps: [gen]
    inputs: []
    outputs: [more]
    run: "mkdir -p more && for i in $(seq 1 50); do seq 1 $i > more/f$i; done"
)");
  }
  for (int i = 0; i < 4; ++i) {
    fs::path clone = root / ("clone" + std::to_string(i));
    builds.push_back(startKiln({"build", "--output", "plain"}, clone,
                               clone / "kiln.out",
                               {{"KILN_CACHE_DIR", cache.path().string()}}));
  }
  for (auto& background : builds) {
    INFO(background.output());
    CHECK(background.wait() == 0);
  }
  std::vector<fs::path> blobs = blobFiles(cache.path());
  REQUIRE(blobs.size() > 50);
  for (const auto& blob : blobs) {
    RunResult check =
        run({"sh", "-c", "zstd -dc '" + blob.string() + "' | sha256sum"},
            cache.path());
    INFO(blob);
    CHECK(check.output.substr(0, 64) == blob.filename().string());
  }
  RunResult verify = runKiln({"cache", "verify"}, root.path(),
                             {{"KILN_CACHE_DIR", cache.path().string()}});
  INFO(verify.output);
  CHECK(verify.exitCode == 0);
  CHECK_THAT(verify.output, Catch::Contains(": 0 problems"));
}

TEST_CASE("flipped byte in a blob is a miss", "[cache]") {
  TempDir dir;
  TempDir cache;
  writeFile(dir / "src/data.txt", "the right content\n");
  writeFile(dir / "kiln.yaml", kSimplePipeline);
  REQUIRE(build(dir.path(), cache.path()).exitCode == 0);
  std::string expected = readText(dir / "out/data.txt");
  fs::remove_all(dir / "out");

  std::string digest = sha256Hex(expected, dir / "scratch");
  fs::path blob = cache / "cas" / digest.substr(0, 2) / digest;
  REQUIRE(fs::exists(blob));
  fs::permissions(blob, fs::perms::owner_write, fs::perm_options::add);
  {
    std::fstream file(blob, std::ios::in | std::ios::out | std::ios::binary);
    file.seekg(-6, std::ios::end);
    char byte = 0;
    file.get(byte);
    file.seekp(-6, std::ios::end);
    file.put(static_cast<char>(byte ^ 0x20));
  }
  RunResult again = build(dir.path(), cache.path());
  INFO(again.output);
  CHECK(again.exitCode == 0);
  CHECK(hasStatus(again.output, "built", "gen"));
  CHECK_THAT(again.output, Catch::Contains("rejected"));
  CHECK(readText(dir / "out/data.txt") == expected);
  RunResult verify = runKiln({"cache", "verify"}, dir.path(),
                             {{"KILN_CACHE_DIR", cache.path().string()}});
  CHECK(verify.exitCode == 0);
}

TEST_CASE("crafted entries never write outside", "[cache]") {
  TempDir dir;
  TempDir cache;
  TempDir outside;
  writeFile(dir / "src/data.txt", "data\n");
  writeFile(dir / "kiln.yaml", kSimplePipeline);
  std::string key = actionKey(dir.path(), cache.path(), "gen");
  fs::path victim = outside / "victim.txt";
  fs::path scratch = dir / "scratch";
  fs::create_directories(scratch);
  std::string fileDigest = putBlob(cache.path(), "evil\n", scratch);
  std::string logDigest = putBlob(cache.path(), "", scratch);

  auto entryFile = [&](const std::string& path) {
    return R"({"path":")" + path +
           R"(","type":"file","mode":420,"size":5,"digest":")" + fileDigest +
           R"("})";
  };
  std::vector<std::pair<std::string, std::string>> manifests = {
      {"dot-dot", "{\"entries\":[" + entryFile("out/../../escape.txt") +
                      "],\"version\":1}"},
      {"absolute",
       "{\"entries\":[" + entryFile(victim.string()) + "],\"version\":1}"},
      {"outside-output",
       "{\"entries\":[" + entryFile("src/data.txt") + "],\"version\":1}"},
      {"below-symlink",
       R"({"entries":[{"path":"out/link","type":"symlink","target":")" +
           outside.path().string() + R"("},)" +
           entryFile("out/link/victim.txt") + "],\"version\":1}"},
  };
  for (const auto& [name, manifest] : manifests) {
    DYNAMIC_SECTION(name) {
      std::string manifestDigest = putBlob(cache.path(), manifest, scratch);
      fs::path entry = cache / "ac" / key.substr(0, 2) / key;
      fs::create_directories(entry.parent_path());
      writeFile(entry, R"({"version":1,"manifest":")" + manifestDigest +
                           R"(","log":")" + logDigest +
                           R"(","output_bytes":5,"duration_ms":1})");
      fs::remove_all(dir / ".kiln");
      fs::remove_all(dir / "out");
      RunResult result = build(dir.path(), cache.path());
      INFO(result.output);
      CHECK(result.exitCode == 0);
      CHECK(hasStatus(result.output, "built", "gen"));
      CHECK_THAT(result.output, Catch::Contains("rejected"));
      CHECK_FALSE(fs::exists(victim));
      CHECK_FALSE(fs::exists(dir.path().parent_path() / "escape.txt"));
      CHECK(readText(dir / "src/data.txt") == "data\n");
      CHECK(readText(dir / "out/data.txt") == "data\n");
    }
  }
}

TEST_CASE("symlink on disk is not followed", "[cache]") {
  TempDir dir;
  TempDir cache;
  TempDir outside;
  writeFile(dir / "src/data.txt", "data\n");
  writeFile(dir / "kiln.yaml", kSimplePipeline);
  REQUIRE(build(dir.path(), cache.path()).exitCode == 0);
  // Replace the output directory with a link to a directory elsewhere: the
  // restore must replace the link, not write through it.
  fs::remove_all(dir / "out");
  fs::create_directory_symlink(outside.path(), dir / "out");
  fs::remove_all(dir / ".kiln");
  RunResult result = build(dir.path(), cache.path());
  INFO(result.output);
  CHECK(result.exitCode == 0);
  CHECK(fs::is_empty(outside.path()));
  CHECK_FALSE(fs::is_symlink(dir / "out"));
  CHECK(readText(dir / "out/data.txt") == "data\n");
}

TEST_CASE("gc during a paused build is safe", "[cache]") {
  TempDir dir;
  TempDir cache;
  writeFile(dir / "src/data.txt", "data\n");
  REQUIRE(::mkfifo((dir / "gate").c_str(), 0600) == 0);
  writeFile(dir / "kiln.yaml", std::string(kSimplePipeline) + R"(  - name: wait
    plugin: command
    deps: [gen]
    inputs: []
    outputs: [final.txt]
    run: "echo x > waiting; read line < gate; cat out/data.txt out/numbers.txt > final.txt; echo $line >> final.txt"
)");
  Background building =
      startKiln({"build", "--output", "plain"}, dir.path(), dir / "kiln.out",
                {{"KILN_CACHE_DIR", cache.path().string()}});
  REQUIRE(waitForFile(dir / "waiting"));
  RunResult gc = runKiln({"cache", "gc", "--max-size", "0"}, dir.path(),
                         {{"KILN_CACHE_DIR", cache.path().string()}});
  INFO(gc.output);
  CHECK(gc.exitCode == 0);
  CHECK(blobFiles(cache.path()).empty());
  {
    std::ofstream gate(dir / "gate");
    gate << "released\n";
  }
  INFO(building.output());
  CHECK(building.wait() == 0);
  std::string final = readText(dir / "final.txt");
  CHECK(final.rfind("data\n1\n2\n", 0) == 0);
  CHECK_THAT(final, Catch::EndsWith("2000\nreleased\n"));

  RunResult again = build(dir.path(), cache.path());
  INFO(again.output);
  CHECK(again.exitCode == 0);
  CHECK(countStatus(again.output, "up to date") == 2);
  RunResult verify = runKiln({"cache", "verify"}, dir.path(),
                             {{"KILN_CACHE_DIR", cache.path().string()}});
  CHECK(verify.exitCode == 0);
}
