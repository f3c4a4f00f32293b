// Repositories cloned from URLs, target discovery and includes, and the
// commands that only read the pipeline.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/common/test_support.h"

using namespace kiln::test;
namespace fs = std::filesystem;

namespace {

std::map<std::string, std::string> privateCache(const fs::path& dir) {
  return {{"KILN_CACHE_DIR", (dir / ".kiln/cache").string()}};
}

void commitAll(const fs::path& dir, const std::string& message) {
  std::map<std::string, std::string> env = {
      {"GIT_AUTHOR_NAME", "kiln test"},
      {"GIT_AUTHOR_EMAIL", "test@kiln.invalid"},
      {"GIT_COMMITTER_NAME", "kiln test"},
      {"GIT_COMMITTER_EMAIL", "test@kiln.invalid"}};
  REQUIRE(run({"git", "add", "-A"}, dir, env).exitCode == 0);
  REQUIRE(run({"git", "commit", "-q", "-m", message}, dir, env).exitCode == 0);
}

}  // namespace

TEST_CASE("url repositories are cloned at their ref", "[workspace]") {
  TempDir upstream;
  writeFile(upstream / "version.txt", "one\n");
  gitInitCommit(upstream.path());
  REQUIRE(run({"git", "tag", "v1"}, upstream.path()).exitCode == 0);
  writeFile(upstream / "version.txt", "two\n");
  commitAll(upstream.path(), "second");

  TempDir dir;
  auto pipeline = [&](const std::string& ref) {
    writeFile(dir / "kiln.yaml",
              "version: 1\nrepos:\n  up: { url: \"file://" +
                  upstream.path().string() + "\", ref: " + ref +
                  " }\ntargets:\n  - { name: show, plugin: command, repo: up,"
                  " inputs: [version.txt], outputs: [out.txt], run: \"cp "
                  "version.txt out.txt\" }\n");
  };
  pipeline("v1");
  RunResult tagged = runKiln({"build", "--output", "plain"}, dir.path(),
                             privateCache(dir.path()));
  INFO(tagged.output);
  REQUIRE(tagged.exitCode == 0);
  CHECK(readText(dir / ".kiln/repos/up/out.txt") == "one\n");

  pipeline("main");
  RunResult branch = runKiln({"build", "--output", "plain"}, dir.path(),
                             privateCache(dir.path()));
  INFO(branch.output);
  REQUIRE(branch.exitCode == 0);
  CHECK(readText(dir / ".kiln/repos/up/out.txt") == "two\n");

  RunResult repos = runKiln({"ls", "--repos"}, dir.path());
  CHECK_THAT(repos.output, Catch::Contains(".kiln/repos/up"));

  pipeline("no-such-branch");
  RunResult missing = runKiln({"build"}, dir.path(), privateCache(dir.path()));
  CHECK(missing.exitCode == 2);
  CHECK_THAT(missing.output, Catch::Contains("'no-such-branch' not found"));
  CHECK_THAT(missing.output, Catch::Contains("kiln.yaml:3:"));
}

TEST_CASE("changed url clones the new repository", "[workspace]") {
  TempDir first;
  writeFile(first / "version.txt", "first\n");
  gitInitCommit(first.path());
  TempDir second;
  writeFile(second / "version.txt", "second\n");
  gitInitCommit(second.path());

  TempDir dir;
  auto pipeline = [&](const fs::path& upstream) {
    writeFile(dir / "kiln.yaml",
              "version: 1\nrepos:\n  up: { url: \"file://" +
                  upstream.string() +
                  "\" }\ntargets:\n  - { name: show, plugin: command, "
                  "repo: up, inputs: [version.txt], outputs: [out.txt], "
                  "run: \"cp version.txt out.txt\" }\n");
  };
  pipeline(first.path());
  REQUIRE(runKiln({"build"}, dir.path(), privateCache(dir.path())).exitCode ==
          0);
  CHECK(readText(dir / ".kiln/repos/up/out.txt") == "first\n");

  pipeline(second.path());
  RunResult switched =
      runKiln({"build", "--output", "plain"}, dir.path(),
              privateCache(dir.path()));
  INFO(switched.output);
  REQUIRE(switched.exitCode == 0);
  CHECK(readText(dir / ".kiln/repos/up/out.txt") == "second\n");

  pipeline(dir / "no-such-repository");
  RunResult missing = runKiln({"build"}, dir.path(), privateCache(dir.path()));
  CHECK(missing.exitCode == 2);
  CHECK_THAT(missing.output, Catch::Contains("cannot clone"));
}

TEST_CASE("discovery and includes select targets", "[workspace]") {
  TempDir dir;
  for (const char* app : {"alpha", "beta", "gamma", "legacy"}) {
    writeFile(dir / "apps" / app / "src.txt", std::string(app) + "\n");
  }
  writeFile(dir / "full.yaml", R"(version: 1
repos:
  r: { path: . }
targets:
  - discover: { repo: r, dir: "apps/*", plugin: command, exclude: [legacy],
                inputs: ["src.txt"], outputs: [out.txt],
                run: "cp src.txt out.txt" }
  - { name: bundle, plugin: command, deps: [alpha, beta], inputs: [],
      run: "cat apps/alpha/out.txt apps/beta/out.txt > bundle.txt" }
)");
  writeFile(dir / "sub/lite.yaml", R"(version: 1
include:
  - file: ../full.yaml
    targets: [bundle]
)");
  RunResult all = runKiln({"ls", "-p", "full.yaml", "--json"}, dir.path());
  INFO(all.output);
  REQUIRE(all.exitCode == 0);
  nlohmann::json listed = nlohmann::json::parse(all.output);
  std::vector<std::string> names;
  for (const auto& target : listed["targets"]) {
    names.push_back(target["name"]);
  }
  CHECK(names == std::vector<std::string>{"bundle", "alpha", "beta", "gamma"});
  CHECK(listed["targets"][1]["dir"] == "apps/alpha");

  RunResult lite =
      runKiln({"build", "-p", "sub/lite.yaml", "--output", "plain"}, dir.path(),
              privateCache(dir.path()));
  INFO(lite.output);
  CHECK(lite.exitCode == 0);
  CHECK(readText(dir / "bundle.txt") == "alpha\nbeta\n");
  CHECK_FALSE(fs::exists(dir / "apps/gamma/out.txt"));
  CHECK(fs::exists(dir / "sub/.kiln"));
}

TEST_CASE("graph formats list every edge", "[workspace]") {
  TempDir dir;
  writeFile(dir / "kiln.yaml", R"(version: 1
repos:
  r: { path: . }
targets:
  - { name: lib, plugin: command, run: "true" }
  - { name: app, plugin: command, deps: [lib], run: "true" }
)");
  RunResult dot = runKiln({"graph"}, dir.path());
  CHECK(dot.exitCode == 0);
  CHECK_THAT(dot.output, Catch::Contains("\"lib\" -> \"app\";"));
  RunResult mermaid = runKiln({"graph", "--format", "mermaid"}, dir.path());
  CHECK_THAT(mermaid.output, Catch::Contains("s0 --> s1"));
  RunResult json = runKiln({"graph", "--format", "json", "app"}, dir.path());
  nlohmann::json graph = nlohmann::json::parse(json.output);
  CHECK(graph["steps"].size() == 2);
  CHECK(graph["steps"][1]["deps"][0] == "lib");
  RunResult bad = runKiln({"graph", "--format", "svg"}, dir.path());
  CHECK(bad.exitCode == 2);
}

TEST_CASE("help and version work anywhere", "[workspace]") {
  TempDir dir;
  RunResult version = runKiln({"--version"}, dir.path());
  CHECK(version.exitCode == 0);
  CHECK_THAT(version.output, Catch::StartsWith("kiln "));
  RunResult help = runKiln({"help"}, dir.path());
  CHECK(help.exitCode == 0);
  CHECK_THAT(help.output, Catch::Contains("build"));
  CHECK_THAT(help.output, Catch::Contains("why"));
  RunResult plugins = runKiln({"plugins"}, dir.path());
  CHECK_THAT(plugins.output, Catch::Contains("nestjs"));
  RunResult none = runKiln({}, dir.path());
  CHECK(none.exitCode == 2);
}

TEST_CASE("terminal output redraws one status line", "[workspace]") {
  TempDir dir;
  writeFile(dir / "kiln.yaml", R"(version: 1
repos:
  r: { path: . }
targets:
  - { name: one, plugin: command, run: "sleep 0.2" }
  - { name: two, plugin: command, run: "sleep 0.2" }
)");
  RunResult tty = runKiln({"build", "--output", "tty", "-j2"}, dir.path(),
                          privateCache(dir.path()));
  INFO(tty.output);
  CHECK(tty.exitCode == 0);
  CHECK_THAT(tty.output, Catch::Contains("\r\x1b[K[0/2] building "));
  CHECK_THAT(tty.output, !Catch::Contains("] start one"));
  CHECK_THAT(tty.output, Catch::Contains("TARGET"));
}
