// Builds that share results through a real nginx WebDAV cache on loopback.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "tests/common/nginx_cache.h"
#include "tests/common/test_support.h"

using namespace kiln::test;
namespace fs = std::filesystem;

namespace {

const char* kPipeline = R"(version: 1
repos:
  r: { path: . }
targets:
  - { name: lib, plugin: command, inputs: ["lib/**"], outputs: [out/lib], run: "mkdir -p out/lib && cp lib/*.txt out/lib/ && ln -sf lib.txt out/lib/link" }
  - { name: api, plugin: command, deps: [lib], inputs: ["api/**"], outputs: [out/api], run: "mkdir -p out/api && cat api/api.txt out/lib/lib.txt > out/api/api.txt && chmod 755 out/api/api.txt" }
  - { name: web, plugin: command, deps: [api], inputs: ["web/**"], outputs: [out/web.txt], run: "cat web/web.txt out/api/api.txt > out/web.txt" }
  - { name: tool, plugin: command, inputs: ["tool/**"], outputs: [out/tool.txt], run: "cp tool/tool.txt out/tool.txt" }
)";

void writeWorkspace(const fs::path& dir, const std::string& extra = {}) {
  writeFile(dir / "lib/lib.txt", "lib\n");
  writeFile(dir / "api/api.txt", "api\n");
  writeFile(dir / "web/web.txt", "web\n");
  writeFile(dir / "tool/tool.txt", "tool\n");
  fs::create_directories(dir / "out");
  writeFile(dir / "kiln.yaml", std::string(kPipeline) + extra);
}

// Runs kiln build with a private local cache and the remote cache.
RunResult buildWith(const fs::path& dir, const NginxCache& nginx,
                    std::vector<std::string> extra = {},
                    std::map<std::string, std::string> env = {}) {
  std::vector<std::string> args = {"build", "--output", "plain",
                                   "--remote-cache", nginx.url("team")};
  args.insert(args.end(), extra.begin(), extra.end());
  env["KILN_CACHE_DIR"] = (dir / ".kiln/local-cache").string();
  return runKiln(args, dir, env);
}

int count(const std::string& output, const std::string& needle) {
  int found = 0;
  for (std::size_t at = output.find(needle); at != std::string::npos;
       at = output.find(needle, at + 1)) {
    ++found;
  }
  return found;
}

std::string tree(const fs::path& dir) {
  std::string listing;
  std::vector<fs::path> paths;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    paths.push_back(entry.path());
  }
  std::sort(paths.begin(), paths.end());
  for (const auto& path : paths) {
    listing += fs::relative(path, dir).string();
    if (fs::is_symlink(path)) {
      listing += " -> " + fs::read_symlink(path).string();
    } else if (fs::is_regular_file(path)) {
      listing +=
          " " + readText(path) + " " +
          std::to_string(static_cast<unsigned>(fs::status(path).permissions()));
    }
    listing += "\n";
  }
  return listing;
}

std::vector<fs::path> actionEntries(const NginxCache& nginx) {
  std::vector<fs::path> entries;
  fs::path dir = nginx.dataDir() / "team" / "ac";
  for (const auto& entry : fs::directory_iterator(dir)) {
    entries.push_back(entry.path());
  }
  return entries;
}

}  // namespace

TEST_CASE("second workspace is all remote hits", "[remote]") {
  NginxCache nginx;
  TempDir first;
  TempDir second;
  writeWorkspace(first.path());
  writeWorkspace(second / "elsewhere");
  RunResult a = buildWith(first.path(), nginx);
  INFO(a.output);
  REQUIRE(a.exitCode == 0);
  CHECK_THAT(a.output, Catch::Contains("uploaded 4 action entries"));

  RunResult b = buildWith(second / "elsewhere", nginx);
  INFO(b.output);
  CHECK(b.exitCode == 0);
  CHECK(count(b.output, "] cached ") == 4);
  CHECK(count(b.output, "] built ") == 0);
  CHECK_THAT(b.output, Catch::Contains("remote cache: 4 hits"));
  CHECK(tree(first / "out") == tree(second / "elsewhere/out"));
}

TEST_CASE("tampered remote entries are misses", "[remote]") {
  NginxCache nginx;
  TempDir keys;
  REQUIRE(runKiln({"cache", "keygen", (keys / "ci.pem").string(),
                   (keys / "ci.pub").string()},
                  keys.path())
              .exitCode == 0);
  REQUIRE(runKiln({"cache", "keygen", (keys / "other.pem").string(),
                   (keys / "other.pub").string()},
                  keys.path())
              .exitCode == 0);
  CHECK(((fs::status(keys / "ci.pem").permissions()) & fs::perms::group_read) ==
        fs::perms::none);
  std::string key = readText(keys / "ci.pem");
  RunResult again = runKiln({"cache", "keygen", (keys / "ci.pem").string(),
                             (keys / "new.pub").string()},
                            keys.path());
  CHECK(again.exitCode == 2);
  CHECK(readText(keys / "ci.pem") == key);
  CHECK_FALSE(fs::exists(keys / "new.pub"));

  TempDir writer;
  writeWorkspace(writer.path());
  RunResult signedBuild =
      buildWith(writer.path(), nginx,
                {"--remote-cache-sign-key", (keys / "ci.pem").string()});
  REQUIRE(signedBuild.exitCode == 0);
  std::vector<fs::path> entries = actionEntries(nginx);
  REQUIRE(entries.size() == 4);

  auto verifiedBuild = [&](const std::string& name) {
    TempDir reader;
    writeWorkspace(reader.path());
    RunResult result =
        buildWith(reader.path(), nginx,
                  {"--remote-cache-verify-key", (keys / "ci.pub").string()});
    INFO(name << "\n" << result.output);
    CHECK(result.exitCode == 0);
    CHECK(tree(reader / "out") == tree(writer / "out"));
    return result;
  };

  SECTION("valid signatures are hits") {
    RunResult result = verifiedBuild("valid");
    CHECK(count(result.output, "] cached ") == 4);
  }
  SECTION("changed bytes are a miss") {
    for (const auto& entry : entries) {
      std::string bytes = readText(entry);
      bytes[bytes.size() / 2] ^= 0x01;
      writeFile(entry, bytes);
    }
    RunResult result = verifiedBuild("changed bytes");
    CHECK(count(result.output, "] cached ") == 0);
    CHECK(count(result.output, "] built ") == 4);
  }
  SECTION("another key's signature is a miss") {
    TempDir impostor;
    writeWorkspace(impostor.path());
    // Same keys, entries signed with another private key.
    RunResult forged = buildWith(
        impostor.path(), nginx,
        {"--force", "lib", "--force", "api", "--force", "web", "--force",
         "tool", "--remote-cache-sign-key", (keys / "other.pem").string()});
    REQUIRE(forged.exitCode == 0);
    RunResult result = verifiedBuild("other key");
    CHECK(count(result.output, "] cached ") == 0);
  }
  SECTION("unsigned entries are a miss") {
    TempDir unsignedWriter;
    writeWorkspace(unsignedWriter.path());
    RunResult plain = buildWith(unsignedWriter.path(), nginx,
                                {"--force", "lib", "--force", "api", "--force",
                                 "web", "--force", "tool"});
    REQUIRE(plain.exitCode == 0);
    RunResult result = verifiedBuild("unsigned");
    CHECK(count(result.output, "] cached ") == 0);
  }
  SECTION("a manifest naming ../x is a miss") {
    // A consistent chain of valid digests that ends in a manifest with an
    // unsafe path: only kiln's manifest check can reject it.
    TempDir scratch;
    fs::path cas = nginx.dataDir() / "team/cas";
    auto put = [&](const std::string& text) {
      writeFile(scratch / "blob", text);
      std::string digest =
          run({"sha256sum", (scratch / "blob").string()}, scratch.path())
              .output.substr(0, 64);
      writeFile(cas / digest, text);
      return digest;
    };
    std::string evil = put("evil\n");
    std::string log = put("");
    std::string manifest = put(
        R"({"entries":[{"path":"out/../../x","type":"file","mode":420,"size":5,"digest":")" +
        evil + R"("}],"version":1})");
    std::string record = R"({"duration_ms":1,"log":")" + log +
                         R"(","manifest":")" + manifest +
                         R"(","output_bytes":5,"version":1})";
    std::string recordDigest = put(record);
    writeFile(scratch / "entry.txt",
              "output_files { path: \"kiln-result.json\" digest { hash: \"" +
                  recordDigest +
                  "\" size_bytes: " + std::to_string(record.size()) + " } }\n");
    for (const auto& entry : entries) {
      RunResult encoded =
          run({"bash", std::string(KILN_SOURCE_DIR) + "/tests/remote/protoc.sh",
               "encode", (scratch / "entry.txt").string(), entry.string()},
              scratch.path());
      REQUIRE(encoded.exitCode == 0);
    }
    TempDir reader;
    writeWorkspace(reader.path());
    RunResult result = buildWith(reader.path(), nginx);
    INFO(result.output);
    CHECK(result.exitCode == 0);
    CHECK(count(result.output, "] cached ") == 0);
    CHECK_THAT(result.output, Catch::Contains("manifest rejected"));
    CHECK_FALSE(fs::exists(reader.path().parent_path() / "x"));
    CHECK_FALSE(fs::exists(reader / "x"));
    CHECK(tree(reader / "out") == tree(writer / "out"));
  }
}

TEST_CASE("readonly remote sends no PUT", "[remote]") {
  NginxCache nginx;
  TempDir dir;
  writeWorkspace(dir.path());
  RunResult result = buildWith(dir.path(), nginx, {"--remote-cache-readonly"});
  INFO(result.output);
  CHECK(result.exitCode == 0);
  CHECK(count(result.output, "] built ") == 4);
  CHECK(nginx.countRequests("PUT") == 0);
  CHECK(nginx.countRequests("GET") >= 4);
  CHECK(readText(dir / "out/web.txt") == "web\napi\nlib\n");
}

TEST_CASE("server stopped mid-build warns once", "[remote]") {
  NginxCache nginx;
  TempDir dir;
  REQUIRE(::mkfifo((dir / "gate").c_str(), 0600) == 0);
  writeWorkspace(dir.path(), R"(  - name: wait
    plugin: command
    deps: [web]
    inputs: []
    outputs: [out/final.txt]
    run: "echo x > waiting; read line < gate; cat out/web.txt > out/final.txt"
  - { name: after, plugin: command, deps: [wait], inputs: [], outputs: [out/after.txt], run: "cp out/final.txt out/after.txt" }
)");
  Background building = startKiln(
      {"build", "-j1", "--output", "plain", "--remote-cache", nginx.url()},
      dir.path(), dir / "kiln.out",
      {{"KILN_CACHE_DIR", (dir / ".kiln/local-cache").string()}});
  REQUIRE(waitForFile(dir / "waiting"));
  nginx.stop();
  {
    std::ofstream gate(dir / "gate");
    gate << "go\n";
  }
  int status = building.wait();
  std::string output = building.output();
  INFO(output);
  CHECK(status == 0);
  CHECK(count(output, "remote cache unavailable") == 1);
  CHECK(readText(dir / "out/after.txt") == "web\napi\nlib\n");
}

TEST_CASE("shards run every step once", "[remote]") {
  NginxCache nginx;
  std::map<std::string, int> built;
  for (int shard = 1; shard <= 3; ++shard) {
    TempDir clone;
    writeWorkspace(clone.path());
    RunResult result = buildWith(
        clone.path(), nginx,
        {"--shard", std::to_string(shard) + "/3", "--summary-json", "s.json"});
    INFO(result.output);
    CHECK(result.exitCode == 0);
    nlohmann::json summary = nlohmann::json::parse(readText(clone / "s.json"));
    for (const auto& step : summary["steps"]) {
      if (step["status"] == "built") {
        ++built[step["id"]];
      }
    }
  }
  CHECK(built == std::map<std::string, int>{
                     {"api", 1}, {"lib", 1}, {"tool", 1}, {"web", 1}});
}

TEST_CASE("netrc credentials reach nginx unseen", "[remote]") {
  NginxCache nginx("ci-user:s3cret-pass");
  TempDir dir;
  TempDir home;
  writeWorkspace(dir.path());
  writeFile(home / ".netrc",
            "machine 127.0.0.1 login ci-user password s3cret-pass\n");
  fs::permissions(home / ".netrc",
                  fs::perms::owner_read | fs::perms::owner_write,
                  fs::perm_options::replace);
  RunResult result = buildWith(dir.path(), nginx, {"--output", "github"},
                               {{"NETRC", (home / ".netrc").string()}});
  INFO(result.output);
  CHECK(result.exitCode == 0);
  CHECK_THAT(result.output, Catch::Contains("uploaded 4 action entries"));
  CHECK_THAT(result.output, !Catch::Contains("s3cret-pass"));
  CHECK(nginx.countRequests("PUT") > 0);
  CHECK_THAT(nginx.accessLog(), Catch::Contains("ci-user"));
  for (const auto& log : fs::directory_iterator(dir / ".kiln/logs")) {
    CHECK_THAT(readText(log.path()), !Catch::Contains("s3cret-pass"));
  }

  TempDir denied;
  writeWorkspace(denied.path());
  RunResult refused =
      buildWith(denied.path(), nginx, {}, {{"NETRC", "/dev/null"}});
  INFO(refused.output);
  CHECK(refused.exitCode == 0);
  CHECK(count(refused.output, "remote cache unavailable") == 1);
}
