// Incremental builds and cache hits with the kiln binary on small
// repositories of shell steps.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <fstream>

#include "tests/cache/cache_helpers.h"

using namespace kiln::test;
namespace fs = std::filesystem;

namespace {

// Three targets: lib reads lib/, app-a and app-b read their own dirs and
// depend on lib.
void writeThreeTargets(const fs::path& dir) {
  writeFile(dir / "lib/util.txt", "util v1\n");
  writeFile(dir / "a/main.txt", "a v1\n");
  writeFile(dir / "b/main.txt", "b v1\n");
  writeFile(dir / "kiln.yaml", R"(version: 1
repos:
  r: { path: . }
targets:
  - name: lib
    plugin: command
    inputs: ["lib/**"]
    outputs: [out/lib]
    run: "mkdir -p out/lib && cat lib/*.txt > out/lib/lib.txt"
  - name: app-a
    plugin: command
    deps: [lib]
    inputs: ["a/**"]
    outputs: [out/a]
    run: "mkdir -p out/a && cat a/main.txt out/lib/lib.txt > out/a/app.txt"
  - name: app-b
    plugin: command
    deps: [lib]
    inputs: ["b/**"]
    outputs: [out/b]
    run: "mkdir -p out/b && cat b/main.txt out/lib/lib.txt > out/b/app.txt"
)");
}

}  // namespace

TEST_CASE("no-op build runs and restores nothing", "[cache]") {
  TempDir dir;
  TempDir cache;
  writeThreeTargets(dir.path());
  RunResult first = build(dir.path(), cache.path());
  INFO(first.output);
  REQUIRE(first.exitCode == 0);
  CHECK(countStatus(first.output, "built") == 3);

  RunResult second = build(dir.path(), cache.path());
  INFO(second.output);
  CHECK(second.exitCode == 0);
  CHECK(countStatus(second.output, "up to date") == 3);
  CHECK(countStatus(second.output, "built") == 0);
  CHECK(countStatus(second.output, "cached") == 0);
}

TEST_CASE("one changed file reruns its dependents only", "[cache]") {
  TempDir dir;
  TempDir cache;
  writeThreeTargets(dir.path());
  REQUIRE(build(dir.path(), cache.path()).exitCode == 0);

  writeFile(dir / "a/main.txt", "a v2\n");
  RunResult appOnly = build(dir.path(), cache.path());
  INFO(appOnly.output);
  CHECK(hasStatus(appOnly.output, "built", "app-a"));
  CHECK(hasStatus(appOnly.output, "up to date", "lib"));
  CHECK(hasStatus(appOnly.output, "up to date", "app-b"));
  CHECK(readText(dir / "out/a/app.txt") == "a v2\nutil v1\n");

  writeFile(dir / "lib/util.txt", "util v2\n");
  RunResult all = build(dir.path(), cache.path());
  INFO(all.output);
  CHECK(countStatus(all.output, "built") == 3);
  CHECK(readText(dir / "out/b/app.txt") == "b v1\nutil v2\n");
}

TEST_CASE("restore keeps modes and drops setuid", "[cache]") {
  TempDir dir;
  TempDir cache;
  writeFile(dir / "src/in.txt", "x\n");
  writeFile(dir / "kiln.yaml", R"(version: 1
repos:
  r: { path: . }
targets:
  - name: modes
    plugin: command
    inputs: ["src/**"]
    outputs: [out]
    run: "mkdir -p out && cp src/in.txt out/plain && chmod 0644 out/plain && cp src/in.txt out/tool && chmod 4755 out/tool && cp src/in.txt out/private && chmod 0600 out/private"
)");
  REQUIRE(build(dir.path(), cache.path()).exitCode == 0);
  REQUIRE((fileMode(dir / "out/tool") & 04000) != 0);
  fs::remove_all(dir / "out");

  RunResult restored = build(dir.path(), cache.path());
  INFO(restored.output);
  CHECK(hasStatus(restored.output, "cached", "modes"));
  CHECK(fileMode(dir / "out/plain") == 0644);
  CHECK(fileMode(dir / "out/private") == 0600);
  CHECK(fileMode(dir / "out/tool") == 0755);
}

TEST_CASE("executable bit of an input is a miss", "[cache]") {
  TempDir dir;
  TempDir cache;
  writeFile(dir / "src/script.sh", "echo hi\n");
  writeFile(dir / "kiln.yaml", R"(version: 1
repos:
  r: { path: . }
targets:
  - { name: s, plugin: command, inputs: ["src/**"], outputs: [o.txt], run: "ls -l src > o.txt" }
)");
  REQUIRE(build(dir.path(), cache.path()).exitCode == 0);
  fs::permissions(dir / "src/script.sh", fs::perms::owner_exec,
                  fs::perm_options::add);
  RunResult again = build(dir.path(), cache.path(), {"--explain"});
  INFO(again.output);
  CHECK(hasStatus(again.output, "built", "s"));
  CHECK_THAT(again.output, Catch::Contains("executable bit changed"));
}

TEST_CASE("symlinks restore as symlinks", "[cache]") {
  TempDir dir;
  TempDir cache;
  writeFile(dir / "src/x", "x\n");
  writeFile(dir / "kiln.yaml", R"(version: 1
repos:
  r: { path: . }
targets:
  - name: links
    plugin: command
    inputs: ["src/**"]
    outputs: [out]
    run: "mkdir -p out/real out/empty && echo data > out/real/f && ln -s real out/sibling && ln -s ../missing/target out/dangling"
)");
  REQUIRE(build(dir.path(), cache.path()).exitCode == 0);
  fs::remove_all(dir / "out");
  RunResult restored = build(dir.path(), cache.path());
  INFO(restored.output);
  CHECK(hasStatus(restored.output, "cached", "links"));
  CHECK(fs::is_symlink(dir / "out/sibling"));
  CHECK(fs::read_symlink(dir / "out/sibling") == "real");
  CHECK(fs::is_symlink(dir / "out/dangling"));
  CHECK(fs::read_symlink(dir / "out/dangling") == "../missing/target");
  CHECK(fs::is_directory(dir / "out/empty"));
  CHECK(readText(dir / "out/sibling/f") == "data\n");
}

TEST_CASE("ignored env file and declared env are keyed", "[cache]") {
  TempDir dir;
  TempDir cache;
  writeFile(dir / ".gitignore", ".env.staging\nout.txt\n");
  writeFile(dir / ".env.staging", "GATEWAY_PORT=30000\n");
  auto pipeline = [&](const std::string& mode) {
    writeFile(dir / "kiln.yaml", R"(version: 1
repos:
  r: { path: . }
targets:
  - name: env
    plugin: command
    inputs: [".env.staging"]
    outputs: [out.txt]
    env: { MODE: )" + mode + R"( }
    run: "env | sort > out.txt; cat .env.staging >> out.txt"
)");
  };
  pipeline("one");
  gitInitCommit(dir.path());
  REQUIRE(build(dir.path(), cache.path()).exitCode == 0);

  writeFile(dir / ".env.staging", "GATEWAY_PORT=30001\n");
  RunResult envFile = build(dir.path(), cache.path());
  INFO(envFile.output);
  CHECK(hasStatus(envFile.output, "built", "env"));

  pipeline("two");
  RunResult declared = build(dir.path(), cache.path());
  INFO(declared.output);
  CHECK(hasStatus(declared.output, "built", "env"));

  RunResult undeclared =
      build(dir.path(), cache.path(), {}, {{"KILN_TEST_UNDECLARED", "1"}});
  INFO(undeclared.output);
  CHECK(hasStatus(undeclared.output, "up to date", "env"));
  fs::remove(dir / "out.txt");
  REQUIRE(build(dir.path(), cache.path(), {"--no-cache"},
                {{"KILN_TEST_UNDECLARED", "2"}})
              .exitCode == 0);
  std::string seen = readText(dir / "out.txt");
  CHECK_THAT(seen, Catch::Contains("MODE=two"));
  CHECK_THAT(seen, !Catch::Contains("KILN_TEST_UNDECLARED"));
}

TEST_CASE("tool version change is a miss", "[cache]") {
  TempDir dir;
  TempDir cache;
  writeFile(dir / "kiln.yaml", R"(version: 1
repos:
  r: { path: . }
targets:
  - { name: t, plugin: command, tools: [node], inputs: [], outputs: [v.txt], run: "node --version > v.txt" }
)");
  std::string path = std::getenv("PATH");
  REQUIRE(build(dir.path(), cache.path()).exitCode == 0);
  RunResult same = build(dir.path(), cache.path());
  CHECK(hasStatus(same.output, "up to date", "t"));

  writeFile(dir / "fakebin/node", "#!/bin/sh\necho v99.0.0\n");
  fs::permissions(dir / "fakebin/node", fs::perms::owner_all);
  RunResult other = build(dir.path(), cache.path(), {"--explain"},
                          {{"PATH", (dir / "fakebin").string() + ":" + path}});
  INFO(other.output);
  CHECK(hasStatus(other.output, "built", "t"));
  CHECK_THAT(other.output, Catch::Contains("tool node changed"));
  CHECK(readText(dir / "v.txt") == "v99.0.0\n");
}

TEST_CASE("clones at other paths share hits", "[cache]") {
  TempDir first;
  TempDir second;
  TempDir cache;
  writeThreeTargets(first.path());
  writeThreeTargets(second / "deeper/clone");
  RunResult a = build(first.path(), cache.path());
  REQUIRE(a.exitCode == 0);
  RunResult b = build(second / "deeper/clone", cache.path());
  INFO(b.output);
  CHECK(b.exitCode == 0);
  CHECK(countStatus(b.output, "cached") == 3);
  CHECK(countStatus(b.output, "built") == 0);
  CHECK(readText(second / "deeper/clone/out/a/app.txt") ==
        readText(first / "out/a/app.txt"));
}

TEST_CASE("why names the changed file", "[cache]") {
  TempDir dir;
  TempDir cache;
  writeThreeTargets(dir.path());
  REQUIRE(build(dir.path(), cache.path()).exitCode == 0);
  writeFile(dir / "b/main.txt", "b v2\n");
  RunResult why = runKiln({"why", "app-b"}, dir.path(),
                          {{"KILN_CACHE_DIR", cache.path().string()}});
  INFO(why.output);
  CHECK(why.exitCode == 0);
  CHECK_THAT(why.output, Catch::Contains("app-b: will run"));
  CHECK_THAT(why.output, Catch::Contains("input b/main.txt modified"));
  CHECK_THAT(why.output, Catch::Contains("lib: up to date"));
}

TEST_CASE("force and cache false rerun steps", "[cache]") {
  TempDir dir;
  TempDir cache;
  writeThreeTargets(dir.path());
  REQUIRE(build(dir.path(), cache.path()).exitCode == 0);
  RunResult forced = build(dir.path(), cache.path(), {"--force", "app-a"});
  INFO(forced.output);
  CHECK(hasStatus(forced.output, "built", "app-a"));
  CHECK(hasStatus(forced.output, "up to date", "app-b"));

  RunResult clean = runKiln({"clean", "app-b"}, dir.path(),
                            {{"KILN_CACHE_DIR", cache.path().string()}});
  CHECK(clean.exitCode == 0);
  CHECK_FALSE(fs::exists(dir / "out/b"));
  CHECK(fs::exists(dir / "out/a"));
  RunResult afterClean = build(dir.path(), cache.path());
  CHECK(hasStatus(afterClean.output, "cached", "app-b"));
}

TEST_CASE("later writes into outputs stay no-op", "[cache]") {
  TempDir dir;
  TempDir cache;
  writeFile(dir / "src/lib.txt", "lib\n");
  // `use` adds a cache directory below `deps`'s output, and creates and
  // removes a temporary file there, as build tools do in node_modules.
  writeFile(dir / "kiln.yaml", R"(version: 1
repos:
  r: { path: . }
targets:
  - name: deps
    plugin: command
    inputs: ["src/**"]
    outputs: [out/deps, "!out/deps/.cache"]
    run: "mkdir -p out/deps && cp src/lib.txt out/deps/"
  - name: use
    plugin: command
    deps: [deps]
    inputs: []
    outputs: [out/use.txt]
    run: "mkdir -p out/deps/.cache && date +%N > out/deps/.cache/stamp && touch out/deps/tmp && rm out/deps/tmp && cp out/deps/lib.txt out/use.txt"
)");
  REQUIRE(build(dir.path(), cache.path()).exitCode == 0);
  RunResult second = build(dir.path(), cache.path());
  INFO(second.output);
  CHECK(countStatus(second.output, "up to date") == 2);
  CHECK(countStatus(second.output, "cached") == 0);
  CHECK(fs::exists(dir / "out/deps/.cache/stamp"));

  fs::remove(dir / "out/deps/lib.txt");
  RunResult restored = build(dir.path(), cache.path());
  INFO(restored.output);
  CHECK(hasStatus(restored.output, "cached", "deps"));
  CHECK(readText(dir / "out/deps/lib.txt") == "lib\n");
  CHECK(fs::exists(dir / "out/deps/.cache/stamp"));
}

TEST_CASE("default inputs skip outputs and state", "[cache]") {
  // Two catch-all targets in one directory, and a pipeline file below the
  // repository root whose state directory lies inside the repository.
  TempDir dir;
  TempDir cache;
  writeFile(dir / "src.txt", "source\n");
  writeFile(dir / "ci/kiln.yaml", R"(version: 1
repos:
  r: { path: .. }
targets:
  - name: first
    plugin: command
    outputs: [out-first]
    run: "mkdir -p out-first && cat src.txt > out-first/copy.txt"
  - name: second
    plugin: command
    outputs: [out-second]
    run: "mkdir -p out-second && cat src.txt > out-second/copy.txt"
)");
  std::vector<std::string> pipeline = {"-p", (dir / "ci/kiln.yaml").string()};
  RunResult first = build(dir.path(), cache.path(), pipeline);
  INFO(first.output);
  REQUIRE(first.exitCode == 0);
  CHECK(countStatus(first.output, "built") == 2);

  RunResult second = build(dir.path(), cache.path(), pipeline);
  INFO(second.output);
  CHECK(second.exitCode == 0);
  CHECK(countStatus(second.output, "up to date") == 2);
  CHECK(countStatus(second.output, "built") == 0);

  writeFile(dir / "src.txt", "changed\n");
  RunResult third = build(dir.path(), cache.path(), pipeline);
  INFO(third.output);
  CHECK(countStatus(third.output, "built") == 2);
}
