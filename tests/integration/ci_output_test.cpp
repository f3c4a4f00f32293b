// Machine-readable output, affected builds and sharding, for CI runners.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <set>

#include "tests/common/test_support.h"

using namespace kiln::test;
namespace fs = std::filesystem;

namespace {

std::map<std::string, std::string> privateCache(const fs::path& dir) {
  return {{"KILN_CACHE_DIR", (dir / ".kiln/cache").string()}};
}

// Four targets in one git repository: web depends on api, api on lib; tool
// stands alone; broken fails.
void writeWorkspace(const fs::path& dir, bool withBroken) {
  writeFile(dir / "lib/lib.txt", "lib\n");
  writeFile(dir / "api/api.txt", "api\n");
  writeFile(dir / "web/web.txt", "web\n");
  writeFile(dir / "tool/tool.txt", "tool\n");
  std::string pipeline = R"(version: 1
repos:
  r: { path: . }
targets:
  - { name: lib, plugin: command, inputs: ["lib/**"], outputs: [out/lib], run: "mkdir -p out && cp lib/lib.txt out/lib" }
  - { name: api, plugin: command, deps: [lib], inputs: ["api/**"], outputs: [out/api], run: "mkdir -p out && cat api/api.txt out/lib > out/api" }
  - { name: web, plugin: command, deps: [api], inputs: ["web/**"], outputs: [out/web], run: "mkdir -p out && cat web/web.txt out/api > out/web" }
  - { name: tool, plugin: command, inputs: ["tool/**"], outputs: [out/tool], run: "mkdir -p out && echo building tool && cp tool/tool.txt out/tool" }
)";
  if (withBroken) {
    pipeline +=
        R"(  - { name: broken, plugin: command, inputs: [], run: "echo 'error: 50% done' >&2; exit 4" }
)";
  }
  writeFile(dir / "kiln.yaml", pipeline);
  writeFile(dir / ".gitignore", "out/\n.kiln/\n*.json\n*.xml\n");
}

std::vector<std::string> listedTargets(const std::string& output) {
  nlohmann::json document = nlohmann::json::parse(output);
  std::vector<std::string> names;
  for (const auto& target : document["targets"]) {
    names.push_back(target["name"]);
  }
  return names;
}

}  // namespace

TEST_CASE("github output groups logs and annotates", "[ci]") {
  TempDir dir;
  writeWorkspace(dir.path(), true);
  RunResult result = runKiln({"build", "-k", "--output", "github"}, dir.path(),
                             privateCache(dir.path()));
  INFO(result.output);
  CHECK(result.exitCode == 1);
  std::size_t groups = 0;
  for (std::size_t at = result.output.find("::group::");
       at != std::string::npos; at = result.output.find("::group::", at + 1)) {
    ++groups;
  }
  CHECK(groups == 5);
  CHECK_THAT(result.output, Catch::Contains("::endgroup::"));
  CHECK_THAT(result.output, Catch::Contains("building tool"));
  CHECK_THAT(result.output,
             Catch::Contains("::error title=kiln: broken::broken failed: "
                             "exit status 4"));
}

TEST_CASE("github mode is detected from the environment", "[ci]") {
  TempDir dir;
  writeWorkspace(dir.path(), false);
  auto env = privateCache(dir.path());
  env["GITHUB_ACTIONS"] = "true";
  RunResult result = runKiln({"build"}, dir.path(), env);
  INFO(result.output);
  CHECK(result.exitCode == 0);
  CHECK_THAT(result.output, Catch::Contains("::group::["));
  std::size_t first = result.output.find("] built lib (");
  REQUIRE(first != std::string::npos);
  // The group's title is the step's only line.
  CHECK(result.output.find("] built lib (", first + 1) == std::string::npos);
}

TEST_CASE("report files parse and name every step", "[ci]") {
  TempDir dir;
  writeWorkspace(dir.path(), true);
  RunResult result = runKiln(
      {"build", "-k", "--output", "plain", "--summary-json", "summary.json",
       "--profile", "trace.json", "--junit", "junit.xml"},
      dir.path(), privateCache(dir.path()));
  INFO(result.output);
  CHECK(result.exitCode == 1);
  std::set<std::string> steps = {"lib", "api", "web", "tool", "broken"};

  nlohmann::json summary =
      nlohmann::json::parse(readText(dir / "summary.json"));
  std::set<std::string> inSummary;
  for (const auto& step : summary["steps"]) {
    inSummary.insert(step["id"]);
    CHECK(step.contains("status"));
    CHECK(step.contains("key"));
    CHECK(step.contains("duration_ms"));
    if (step["id"] == "broken") {
      CHECK(step["status"] == "FAILED");
    }
    if (step["id"] == "lib") {
      CHECK(step["status"] == "built");
      CHECK(step["key"].get<std::string>().size() == 64);
    }
  }
  CHECK(inSummary == steps);

  nlohmann::json trace = nlohmann::json::parse(readText(dir / "trace.json"));
  std::set<std::string> inTrace;
  for (const auto& event : trace["traceEvents"]) {
    if (event["ph"] == "X") {
      inTrace.insert(event["name"]);
      CHECK(event["dur"].get<long long>() >= 0);
    }
  }
  CHECK(inTrace == steps);

  RunResult xml = run(
      {"python3", "-c",
       "import sys, xml.etree.ElementTree as ET\n"
       "suite = ET.parse(sys.argv[1]).getroot()\n"
       "print(suite.get('tests'), suite.get('failures'))\n"
       "for case in suite.iter('testcase'):\n"
       "    print(case.get('name'), 'failure' if case.find('failure') is not "
       "None else 'ok')\n",
       (dir / "junit.xml").string()},
      dir.path());
  INFO(xml.output);
  CHECK(xml.exitCode == 0);
  CHECK_THAT(xml.output, Catch::StartsWith("5 1\n"));
  CHECK_THAT(xml.output, Catch::Contains("broken failure"));
  CHECK_THAT(xml.output, Catch::Contains("web ok"));
}

TEST_CASE("since builds changed targets and dependents", "[ci]") {
  TempDir dir;
  writeWorkspace(dir.path(), false);
  gitInitCommit(dir.path());
  auto env = privateCache(dir.path());
  REQUIRE(runKiln({"build", "--output", "plain"}, dir.path(), env).exitCode ==
          0);

  writeFile(dir / "api/api.txt", "api v2\n");
  RunResult listed =
      runKiln({"ls", "--since", "HEAD", "--json"}, dir.path(), env);
  INFO(listed.output);
  REQUIRE(listed.exitCode == 0);
  CHECK(listedTargets(listed.output) == std::vector<std::string>{"api", "web"});

  RunResult built = runKiln({"build", "--since", "HEAD", "--output", "plain"},
                            dir.path(), env);
  INFO(built.output);
  CHECK(built.exitCode == 0);
  CHECK_THAT(built.output, Catch::Contains("built api"));
  CHECK_THAT(built.output, Catch::Contains("built web"));
  CHECK_THAT(built.output, !Catch::Contains("tool"));

  writeFile(dir / "tool/new.txt", "untracked\n");
  RunResult untracked =
      runKiln({"ls", "--since", "r=HEAD", "--json"}, dir.path(), env);
  CHECK(listedTargets(untracked.output) ==
        std::vector<std::string>{"api", "web", "tool"});
}

TEST_CASE("since with a missing ref builds everything", "[ci]") {
  TempDir dir;
  writeWorkspace(dir.path(), false);
  gitInitCommit(dir.path());
  RunResult listed = runKiln({"ls", "--since", "origin/main", "--json"},
                             dir.path(), privateCache(dir.path()));
  INFO(listed.output);
  CHECK(listed.exitCode == 0);
  CHECK_THAT(listed.output, Catch::Contains("'origin/main' not found"));
  std::string json = listed.output.substr(listed.output.find('{'));
  CHECK(listedTargets(json).size() == 4);
}

TEST_CASE("shards split targets and succeed alone", "[ci]") {
  TempDir dir;
  writeWorkspace(dir.path(), false);
  std::set<std::string> all;
  for (int shard = 1; shard <= 3; ++shard) {
    TempDir clone;
    writeWorkspace(clone.path(), false);
    RunResult result =
        runKiln({"build", "--shard", std::to_string(shard) + "/3", "--output",
                 "plain", "--summary-json", "s.json"},
                clone.path(), privateCache(clone.path()));
    INFO(result.output);
    CHECK(result.exitCode == 0);
    nlohmann::json summary = nlohmann::json::parse(readText(clone / "s.json"));
    for (const auto& step : summary["steps"]) {
      all.insert(step["id"]);
    }
  }
  CHECK(all == std::set<std::string>{"api", "lib", "tool", "web"});
  RunResult bad = runKiln({"build", "--shard", "4/3"}, dir.path(),
                          privateCache(dir.path()));
  CHECK(bad.exitCode == 2);
}
