#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/plugin.h"
#include "core/step.h"
#include "core/workspace.h"

namespace kiln {

/// The build graph: steps and the dependencies between them, by index.
class BuildGraph {
 public:
  /// Adds a step. A step with an id already present must have the same
  /// definition (a step shared by several targets); its targets are merged.
  /// Throws std::logic_error on a conflicting redefinition.
  void addStep(Step step);

  /// Resolves dependency ids into indexes and checks for cycles. Call once,
  /// after the last addStep. Throws std::logic_error for a dependency on an
  /// unknown step or a cycle, which are plugin bugs.
  void finalize();

  std::size_t size() const { return steps_.size(); }
  const Step& step(std::size_t index) const { return steps_[index]; }
  const std::vector<Step>& steps() const { return steps_; }
  const std::vector<std::size_t>& deps(std::size_t index) const {
    return deps_[index];
  }
  const std::vector<std::size_t>& dependents(std::size_t index) const {
    return dependents_[index];
  }
  std::optional<std::size_t> find(const std::string& id) const;

  /// Indexes of the steps that belong to a target.
  std::vector<std::size_t> stepsOfTarget(const std::string& target) const;

  /// Marks the steps the given targets need: their own and, transitively,
  /// their dependencies'.
  std::vector<bool> closure(const std::vector<std::string>& targets) const;

  /// Each step's priority: the longest path, by weight, from the step to the
  /// end of the graph, counting the step itself. `weights` holds one value
  /// per step (the last known duration, or 1).
  std::vector<double> criticalPath(const std::vector<double>& weights) const;

  /// Step indexes in an order where every step follows its dependencies.
  const std::vector<std::size_t>& topologicalOrder() const { return order_; }

 private:
  std::vector<Step> steps_;
  std::map<std::string, std::size_t> index_;
  std::vector<std::vector<std::size_t>> deps_;
  std::vector<std::vector<std::size_t>> dependents_;
  std::vector<std::size_t> order_;
};

/// Expands every target through its plugin and links the steps: each step
/// that is not shared also depends on the final steps of its target's
/// 'deps'. Plugins may throw UsageError for a misconfigured
/// project.
BuildGraph expandTargets(const std::vector<TargetSpec>& targets,
                         const Workspace& workspace,
                         const PluginRegistry& plugins);

}  // namespace kiln
