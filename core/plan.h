#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/action_key.h"
#include "core/build_context.h"
#include "core/graph.h"

namespace kiln {

/// What a build would do with one step, without running anything.
struct PlannedStep {
  enum class Action {
    kUpToDate,  // outputs on disk match the last build
    kHit,       // the cache holds a result for the key
    kRun,       // the step would run
    kUnknown,   // a dependency must run first, so the key is not known yet
    kSkipped,   // the step cannot run on this machine
  };
  Action action = Action::kRun;
  std::string key;           // empty when unknown
  std::string outputDigest;  // known for up-to-date steps and hits
  std::optional<KeyInputs> inputs;
  std::vector<std::string> reasons;  // why the step would run
};

std::string plannedActionName(PlannedStep::Action action);

/// Computes each selected step's action key in dependency order and checks
/// the workspace record and the cache, as a build would, but runs and
/// writes nothing.
std::vector<PlannedStep> planBuild(const BuildGraph& graph,
                                   const std::vector<bool>& selected,
                                   BuildContext& context);

}  // namespace kiln
