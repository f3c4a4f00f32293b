#include <catch2/catch.hpp>

#include <mutex>
#include <set>

#include "core/graph.h"
#include "core/scheduler.h"
#include "core/targets.h"

using namespace kiln;

namespace {

Step makeStep(const std::string& id, std::vector<std::string> deps = {}) {
  Step step;
  step.id = id;
  step.target = id;
  step.deps = std::move(deps);
  return step;
}

BuildGraph makeGraph(std::vector<Step> steps) {
  BuildGraph graph;
  for (auto& step : steps) {
    graph.addStep(std::move(step));
  }
  graph.finalize();
  return graph;
}

// Records the order of execution and fails the steps it is told to.
class FakeExecutor : public StepExecutor {
 public:
  FakeExecutor(const BuildGraph& graph, std::set<std::string> failing = {})
      : graph_(graph), failing_(std::move(failing)) {}

  StepOutcome execute(std::size_t index,
                      const std::vector<const StepOutcome*>& deps) override {
    for (const StepOutcome* dep : deps) {
      REQUIRE(isSuccess(dep->status));
    }
    std::lock_guard lock(mutex_);
    const std::string& id = graph_.step(index).id;
    ran.push_back(id);
    return StepOutcome::of(failing_.count(id) ? StepStatus::kFailed
                                              : StepStatus::kBuilt);
  }

  std::vector<std::string> ran;

 private:
  const BuildGraph& graph_;
  std::set<std::string> failing_;
  std::mutex mutex_;
};

std::vector<std::string> runGraph(const BuildGraph& graph,
                                  FakeExecutor& executor, bool keepGoing,
                                  std::vector<StepOutcome>* outcomes = nullptr,
                                  int jobs = 1) {
  BuildObserver observer;
  std::vector<double> weights(graph.size(), 1.0);
  Scheduler scheduler(graph, std::vector<bool>(graph.size(), true),
                      graph.criticalPath(weights), executor, observer,
                      {jobs, keepGoing});
  scheduler.run();
  if (outcomes != nullptr) {
    *outcomes = scheduler.outcomes();
  }
  return executor.ran;
}

StepStatus statusOf(const BuildGraph& graph,
                    const std::vector<StepOutcome>& outcomes,
                    const std::string& id) {
  return outcomes[*graph.find(id)].status;
}

}  // namespace

TEST_CASE("ready queue runs longest path first", "[scheduler]") {
  // "short" is ready as early as "long1" but leads nowhere; the chain
  // long1 -> long2 -> long3 is the critical path and must start first.
  // Then remaining path lengths decide (mid1 has 2 left); equal lengths go in
  // declaration order.
  BuildGraph graph =
      makeGraph({makeStep("short"), makeStep("long1"),
                 makeStep("long2", {"long1"}), makeStep("long3", {"long2"}),
                 makeStep("mid1"), makeStep("mid2", {"mid1"})});
  FakeExecutor executor(graph);
  std::vector<std::string> order = runGraph(graph, executor, false);
  REQUIRE(order.size() == 6);
  CHECK(order[0] == "long1");
  CHECK(order[1] == "long2");
  CHECK(order[2] == "mid1");
  CHECK(order[3] == "short");
  CHECK(order[4] == "long3");
  CHECK(order[5] == "mid2");
}

TEST_CASE("critical path uses weights", "[scheduler]") {
  BuildGraph graph =
      makeGraph({makeStep("a"), makeStep("b", {"a"}), makeStep("c")});
  std::vector<double> weights = {1, 2, 10};
  std::vector<double> path = graph.criticalPath(weights);
  CHECK(path[*graph.find("a")] == 3);
  CHECK(path[*graph.find("b")] == 2);
  CHECK(path[*graph.find("c")] == 10);
}

TEST_CASE("failure stops new steps", "[scheduler]") {
  BuildGraph graph = makeGraph(
      {makeStep("bad"), makeStep("after", {"bad"}), makeStep("other")});
  FakeExecutor executor(graph, {"bad"});
  std::vector<StepOutcome> outcomes;
  std::vector<std::string> order = runGraph(graph, executor, false, &outcomes);
  CHECK(order == std::vector<std::string>{"bad"});
  CHECK(statusOf(graph, outcomes, "bad") == StepStatus::kFailed);
  CHECK(statusOf(graph, outcomes, "after") == StepStatus::kDepFailed);
  CHECK(statusOf(graph, outcomes, "other") == StepStatus::kNotRun);
}

TEST_CASE("keep going builds independent steps", "[scheduler]") {
  BuildGraph graph =
      makeGraph({makeStep("bad"), makeStep("after", {"bad"}),
                 makeStep("after2", {"after"}), makeStep("other"),
                 makeStep("other2", {"other"})});
  FakeExecutor executor(graph, {"bad"});
  std::vector<StepOutcome> outcomes;
  std::vector<std::string> order = runGraph(graph, executor, true, &outcomes);
  CHECK(order.size() == 3);
  CHECK(statusOf(graph, outcomes, "other") == StepStatus::kBuilt);
  CHECK(statusOf(graph, outcomes, "other2") == StepStatus::kBuilt);
  CHECK(statusOf(graph, outcomes, "after") == StepStatus::kDepFailed);
  CHECK(statusOf(graph, outcomes, "after2") == StepStatus::kDepFailed);
}

TEST_CASE("dependencies finish before dependents", "[scheduler]") {
  std::vector<Step> steps;
  for (int i = 0; i < 200; ++i) {
    std::vector<std::string> deps;
    if (i >= 2) {
      deps = {"s" + std::to_string(i / 2), "s" + std::to_string(i - 1)};
    }
    steps.push_back(makeStep("s" + std::to_string(i), deps));
  }
  BuildGraph graph = makeGraph(std::move(steps));
  FakeExecutor executor(graph);
  std::vector<std::string> order = runGraph(graph, executor, false, nullptr, 4);
  CHECK(order.size() == 200);
}

TEST_CASE("target cycle lists the whole path", "[graph]") {
  auto target = [](std::string name, std::vector<std::string> deps) {
    TargetSpec spec;
    spec.name = std::move(name);
    spec.deps = std::move(deps);
    return spec;
  };
  std::vector<TargetSpec> targets = {target("a", {"b"}), target("b", {"c"}),
                                     target("c", {"a"}), target("d", {"a"})};
  CHECK(findTargetCycle(targets) ==
        std::vector<std::string>{"a", "b", "c", "a"});
  targets[2].deps.clear();
  CHECK(findTargetCycle(targets).empty());
}

TEST_CASE("step cycle is rejected", "[graph]") {
  BuildGraph graph;
  graph.addStep(makeStep("x", {"y"}));
  graph.addStep(makeStep("y", {"x"}));
  CHECK_THROWS_WITH(graph.finalize(), Catch::Contains("cycle"));
}

TEST_CASE("shared step must agree", "[graph]") {
  BuildGraph graph;
  Step first = makeStep("install");
  first.argv = {"npm", "ci"};
  Step second = first;
  second.target = "other";
  second.targets = {"other"};
  graph.addStep(first);
  graph.addStep(second);
  REQUIRE(graph.size() == 1);
  CHECK(graph.step(0).targets.size() == 2);
  Step conflicting = first;
  conflicting.argv = {"npm", "install"};
  CHECK_THROWS(graph.addStep(conflicting));
}
