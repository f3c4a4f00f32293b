// Builds small pipelines of real shell commands with the kiln binary.
#include <signal.h>

#include <catch2/catch.hpp>
#include <map>
#include <sstream>
#include <thread>

#include "tests/common/test_support.h"

using namespace kiln::test;
namespace fs = std::filesystem;

namespace {

// Every test gets its own cache, so results of other tests and runs never
// turn its steps into cache hits.
std::map<std::string, std::string> privateCache(
    const fs::path& dir, std::map<std::string, std::string> env = {}) {
  env["KILN_CACHE_DIR"] = (dir / ".kiln/cache").string();
  return env;
}

const char* kHeader = "version: 1\nrepos:\n  r: { path: . }\ntargets:\n";

// A target whose step appends "start ID" and "end ID" lines, with a
// nanosecond clock, to events.log around a short sleep.
std::string timedTarget(const std::string& id,
                        const std::vector<std::string>& deps) {
  std::string depList;
  for (const auto& dep : deps) {
    depList += (depList.empty() ? "" : ", ") + dep;
  }
  return "  - name: " + id + "\n    plugin: command\n    deps: [" + depList +
         "]\n    run: \"echo start " + id +
         " $(date +%s%N) >> events.log; sleep 0.05; echo end " + id +
         " $(date +%s%N) >> events.log\"\n";
}

std::map<std::string, std::pair<long long, long long>> readEvents(
    const fs::path& file) {
  std::map<std::string, std::pair<long long, long long>> events;
  std::istringstream in(readText(file));
  std::string kind, id;
  long long time = 0;
  while (in >> kind >> id >> time) {
    if (kind == "start") {
      events[id].first = time;
    } else {
      events[id].second = time;
    }
  }
  return events;
}

}  // namespace

TEST_CASE("dependency order holds under -j2", "[integration]") {
  TempDir dir;
  std::map<std::string, std::vector<std::string>> deps = {
      {"a", {}},         {"b", {}},    {"c", {"a"}},      {"d", {"a", "b"}},
      {"e", {"c", "d"}}, {"f", {"b"}}, {"g", {"e", "f"}}, {"h", {}}};
  std::string pipeline = kHeader;
  for (const auto& [id, list] : deps) {
    pipeline += timedTarget(id, list);
  }
  writeFile(dir / "kiln.yaml", pipeline);

  RunResult result = runKiln({"build", "-j2", "--output", "plain"}, dir.path(),
                             privateCache(dir.path()));
  INFO(result.output);
  REQUIRE(result.exitCode == 0);
  auto events = readEvents(dir / "events.log");
  REQUIRE(events.size() == deps.size());
  for (const auto& [id, list] : deps) {
    for (const auto& dep : list) {
      INFO(dep << " -> " << id);
      CHECK(events[dep].second < events[id].first);
    }
  }
}

TEST_CASE("failure stops dependents", "[integration]") {
  TempDir dir;
  writeFile(
      dir / "kiln.yaml",
      std::string(kHeader) +
          "  - { name: bad, plugin: command, run: \"sleep 0.3; echo compiling; "
          "echo 'error TS2322: broken' >&2; exit 3\" }\n"
          "  - { name: after, plugin: command, deps: [bad], run: "
          "\"touch after.done\" }\n"
          "  - { name: slow, plugin: command, run: \"sleep 1; touch "
          "slow.done\" }\n"
          "  - { name: later, plugin: command, deps: [slow], run: "
          "\"touch later.done\" }\n");
  RunResult result = runKiln({"build", "-j2", "--output", "plain"}, dir.path(),
                             privateCache(dir.path()));
  INFO(result.output);
  CHECK(result.exitCode == 1);
  CHECK_THAT(result.output, Catch::Contains("FAILED bad: exit status 3"));
  CHECK_THAT(result.output, Catch::Contains("error TS2322: broken"));
  CHECK_FALSE(fs::exists(dir / "after.done"));
  // The running step finishes, but nothing new starts after the failure.
  CHECK(fs::exists(dir / "slow.done"));
  CHECK_FALSE(fs::exists(dir / "later.done"));
  CHECK(fs::exists(dir / ".kiln/logs/bad.log"));
}

TEST_CASE("keep going builds independent targets", "[integration]") {
  TempDir dir;
  writeFile(dir / "kiln.yaml",
            std::string(kHeader) +
                "  - { name: bad, plugin: command, run: \"exit 1\" }\n"
                "  - { name: after, plugin: command, deps: [bad], run: "
                "\"touch after.done\" }\n"
                "  - { name: slow, plugin: command, run: \"sleep 0.5; touch "
                "slow.done\" }\n"
                "  - { name: later, plugin: command, deps: [slow], run: "
                "\"touch later.done\" }\n");
  RunResult result = runKiln({"build", "-j2", "-k", "--output", "plain"},
                             dir.path(), privateCache(dir.path()));
  INFO(result.output);
  CHECK(result.exitCode == 1);
  CHECK_FALSE(fs::exists(dir / "after.done"));
  CHECK(fs::exists(dir / "slow.done"));
  CHECK(fs::exists(dir / "later.done"));
}

TEST_CASE("step sees only declared environment", "[integration]") {
  TempDir dir;
  writeFile(dir / "kiln.yaml",
            std::string(kHeader) +
                "  - name: env\n    plugin: command\n"
                "    env: { NODE_ENV: production }\n"
                "    pass_env: [KILN_TEST_TOKEN]\n"
                "    run: \"env > env.txt; echo token=$KILN_TEST_TOKEN\"\n");
  RunResult result =
      runKiln({"build", "--output", "plain"}, dir.path(),
              privateCache(dir.path(), {{"KILN_TEST_UNDECLARED", "leak"},
                                        {"KILN_TEST_TOKEN", "s3cr3t-value"},
                                        {"NODE_ENV", "development"}}));
  INFO(result.output);
  REQUIRE(result.exitCode == 0);
  std::string env = readText(dir / "env.txt");
  CHECK_THAT(env, Catch::Contains("NODE_ENV=production"));
  CHECK_THAT(env, Catch::Contains("PATH="));
  CHECK_THAT(env, Catch::Contains("KILN_TEST_TOKEN=s3cr3t-value"));
  CHECK_THAT(env, !Catch::Contains("KILN_TEST_UNDECLARED"));
  CHECK_THAT(env, !Catch::Contains("development"));
  std::string log = readText(dir / ".kiln/logs/env.log");
  CHECK_THAT(log, Catch::Contains("token=***"));
  CHECK_THAT(log, !Catch::Contains("s3cr3t-value"));
}

TEST_CASE("SIGINT leaves no process behind", "[integration]") {
  TempDir dir;
  // The step's shell starts a grandchild that ignores SIGTERM, records both
  // PIDs, and waits.
  writeFile(dir / "kiln.yaml",
            std::string(kHeader) +
                "  - name: hang\n    plugin: command\n"
                "    run: \"sh -c 'trap \\\"\\\" TERM; echo $$ > "
                "grandchild.pid; exec sleep 300' & echo $$ > child.pid; "
                "wait\"\n"
                "  - { name: never, plugin: command, deps: [hang], run: "
                "\"touch never.done\" }\n");
  Background kiln =
      startKiln({"build", "--kill-grace", "1", "--output", "plain"}, dir.path(),
                dir / "kiln.out", privateCache(dir.path()));
  REQUIRE(waitForFile(dir / "grandchild.pid"));
  REQUIRE(waitForFile(dir / "child.pid"));
  pid_t child = std::stoi(readText(dir / "child.pid"));
  pid_t grandchild = std::stoi(readText(dir / "grandchild.pid"));
  REQUIRE(processAlive(child));
  REQUIRE(processAlive(grandchild));

  ::kill(kiln.pid, SIGINT);
  int status = kiln.wait(std::chrono::seconds(20));
  INFO(kiln.output());
  CHECK(status == 130);
  CHECK_FALSE(processAlive(child));
  CHECK_FALSE(processAlive(grandchild));
  CHECK_FALSE(fs::exists(dir / "never.done"));
  if (processAlive(grandchild)) {
    ::kill(grandchild, SIGKILL);
  }
}

TEST_CASE("second kiln in a workspace waits", "[integration]") {
  TempDir dir;
  writeFile(dir / "kiln.yaml",
            std::string(kHeader) +
                "  - name: hold\n    plugin: command\n"
                "    run: \"echo x > started; while [ ! -e release ]; do sleep "
                "0.05; done\"\n");
  Background first = startKiln({"build", "--output", "plain"}, dir.path(),
                               dir / "first.out", privateCache(dir.path()));
  REQUIRE(waitForFile(dir / "started"));
  Background second = startKiln({"build", "--output", "plain"}, dir.path(),
                                dir / "second.out", privateCache(dir.path()));
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (second.output().find("waiting for another kiln") ==
             std::string::npos &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  CHECK_THAT(second.output(), Catch::Contains("waiting for another kiln"));
  CHECK_THAT(second.output(), Catch::Contains(std::to_string(first.pid)));
  // The second one must not run while the first holds the workspace.
  CHECK(second.wait(std::chrono::milliseconds(300)) == -1);
  writeFile(dir / "release", "go");
  CHECK(first.wait() == 0);
  CHECK(second.wait() == 0);
}

TEST_CASE("step timeout ends the step", "[integration]") {
  TempDir dir;
  writeFile(dir / "kiln.yaml",
            std::string(kHeader) +
                "  - { name: slow, plugin: command, timeout: 300ms, run: "
                "\"sleep 30\" }\n");
  auto started = std::chrono::steady_clock::now();
  RunResult result =
      runKiln({"build", "--kill-grace", "1", "--output", "plain"}, dir.path(),
              privateCache(dir.path()));
  auto elapsed = std::chrono::steady_clock::now() - started;
  INFO(result.output);
  CHECK(result.exitCode == 1);
  CHECK_THAT(result.output, Catch::Contains("timed out"));
  CHECK(elapsed < std::chrono::seconds(10));
}

TEST_CASE("usage errors exit 2 and run nothing", "[integration]") {
  TempDir dir;
  writeFile(dir / "kiln.yaml",
            std::string(kHeader) +
                "  - { name: a, plugin: command, run: \"touch ran\" }\n"
                "  - { name: b, plugin: command, deps: [zzz], run: \"touch "
                "ran\" }\n");
  RunResult bad = runKiln({"build"}, dir.path(), privateCache(dir.path()));
  CHECK(bad.exitCode == 2);
  CHECK_THAT(bad.output, Catch::Contains("kiln.yaml:6:"));
  CHECK_FALSE(fs::exists(dir / "ran"));

  RunResult unknownOption = runKiln({"build", "--no-such-option"}, dir.path(),
                                    privateCache(dir.path()));
  CHECK(unknownOption.exitCode == 2);
  RunResult noPipeline = runKiln({"build", "-p", "missing.yaml"}, dir.path(),
                                 privateCache(dir.path()));
  CHECK(noPipeline.exitCode == 2);
  CHECK_THAT(noPipeline.output, Catch::Contains("missing.yaml"));
}

TEST_CASE("targets selected by repository and glob", "[integration]") {
  TempDir dir;
  fs::create_directories(dir / "one");
  fs::create_directories(dir / "two");
  writeFile(dir / "kiln.yaml",
            "version: 1\nrepos:\n  one: { path: one }\n  two: { path: two }\n"
            "targets:\n"
            "  - { name: api-a, repo: one, plugin: command, run: \"touch "
            "a\" }\n"
            "  - { name: api-b, repo: one, plugin: command, run: \"touch "
            "b\" }\n"
            "  - { name: web, repo: two, plugin: command, run: \"touch w\" "
            "}\n");
  RunResult byRepo = runKiln({"build", "two:*", "--output", "plain"},
                             dir.path(), privateCache(dir.path()));
  INFO(byRepo.output);
  CHECK(byRepo.exitCode == 0);
  CHECK(fs::exists(dir / "two/w"));
  CHECK_FALSE(fs::exists(dir / "one/a"));
  RunResult byGlob = runKiln({"build", "api-*", "--output", "plain"},
                             dir.path(), privateCache(dir.path()));
  CHECK(byGlob.exitCode == 0);
  CHECK(fs::exists(dir / "one/a"));
  CHECK(fs::exists(dir / "one/b"));
  RunResult none =
      runKiln({"build", "apx"}, dir.path(), privateCache(dir.path()));
  CHECK(none.exitCode == 2);
}
