#include "core/plan.h"

#include "cache/local_store.h"
#include "core/outputs.h"

namespace kiln {

std::string plannedActionName(PlannedStep::Action action) {
  switch (action) {
    case PlannedStep::Action::kUpToDate:
      return "up-to-date";
    case PlannedStep::Action::kHit:
      return "hit";
    case PlannedStep::Action::kRun:
      return "run";
    case PlannedStep::Action::kUnknown:
      return "unknown";
    case PlannedStep::Action::kSkipped:
      return "skipped";
  }
  return "unknown";
}

std::vector<PlannedStep> planBuild(const BuildGraph& graph,
                                   const std::vector<bool>& selected,
                                   BuildContext& context) {
  std::vector<PlannedStep> plan(graph.size());
  for (std::size_t index : graph.topologicalOrder()) {
    if (!selected[index]) {
      continue;
    }
    const Step& step = graph.step(index);
    PlannedStep& planned = plan[index];
    if (!step.skipReason.empty()) {
      planned.action = PlannedStep::Action::kSkipped;
      planned.reasons.push_back(step.skipReason);
      continue;
    }
    std::map<std::string, std::string> depDigests;
    std::vector<std::string> pending;
    for (std::size_t dep : graph.deps(index)) {
      if (plan[dep].outputDigest.empty()) {
        pending.push_back(graph.step(dep).id);
      }
      depDigests[graph.step(dep).id] = plan[dep].outputDigest;
    }
    if (!pending.empty()) {
      planned.action = PlannedStep::Action::kUnknown;
      for (const auto& id : pending) {
        planned.reasons.push_back("dependency " + id + " runs first");
      }
      continue;
    }
    if (!step.cacheable) {
      planned.action = PlannedStep::Action::kRun;
      planned.reasons.push_back("cache: false");
      continue;
    }
    if (step.kind == StepKind::kImage) {
      // NOTE: image keys need the base image, which may need the network,
      // so a plan does not compute them; the build checks them.
      planned.action = PlannedStep::Action::kUnknown;
      planned.reasons.push_back("image steps are checked when they run");
      continue;
    }

    planned.inputs = context.keyInputs(step, depDigests);
    planned.key = planned.inputs->key().hex();
    std::optional<StepRecord> prior = context.record().find(step.id);
    if (prior && prior->key == planned.key &&
        outputSignature(step.repoRoot, step.outputs).hex() ==
            prior->signature) {
      planned.action = PlannedStep::Action::kUpToDate;
      planned.outputDigest = prior->outputDigest;
      continue;
    }
    if (context.policy().read) {
      std::string text;
      ActionRecord action;
      if (auto entry = context.store()->getAction(planned.key);
          entry && ActionRecord::parse(*entry, &action)) {
        planned.action = PlannedStep::Action::kHit;
        planned.outputDigest = action.manifest.hex();
        continue;
      }
    }
    planned.action = PlannedStep::Action::kRun;
    std::optional<KeyInputs> before = context.record().keyInputs(step.id);
    if (!before) {
      planned.reasons.push_back("no earlier build of this step");
    } else if (prior && prior->key == planned.key) {
      planned.reasons.push_back("its outputs changed on disk");
    } else {
      planned.reasons = explainChanges(*before, *planned.inputs);
    }
  }
  return plan;
}

}  // namespace kiln
