#include "core/graph.h"

#include <algorithm>
#include <set>
#include <stdexcept>

#include "util/error.h"
#include "util/strings.h"

namespace kiln {

void BuildGraph::addStep(Step step) {
  auto found = index_.find(step.id);
  if (found == index_.end()) {
    if (step.targets.empty()) {
      step.targets = {step.target};
    }
    index_.emplace(step.id, steps_.size());
    steps_.push_back(std::move(step));
    return;
  }
  Step& existing = steps_[found->second];
  if (!sameDefinition(existing, step)) {
    throw std::logic_error("step '" + step.id +
                           "' is declared twice with different definitions "
                           "(targets " +
                           existing.target + " and " + step.target + ")");
  }
  for (const auto& target : step.targets) {
    if (std::find(existing.targets.begin(), existing.targets.end(), target) ==
        existing.targets.end()) {
      existing.targets.push_back(target);
    }
  }
}

void BuildGraph::finalize() {
  deps_.assign(steps_.size(), {});
  dependents_.assign(steps_.size(), {});
  for (std::size_t i = 0; i < steps_.size(); ++i) {
    for (const auto& id : steps_[i].deps) {
      auto found = index_.find(id);
      if (found == index_.end()) {
        throw std::logic_error("step '" + steps_[i].id +
                               "' depends on unknown step '" + id + "'");
      }
      if (std::find(deps_[i].begin(), deps_[i].end(), found->second) ==
          deps_[i].end()) {
        deps_[i].push_back(found->second);
        dependents_[found->second].push_back(i);
      }
    }
  }

  // Kahn's algorithm; steps left over are on a cycle.
  std::vector<std::size_t> pending(steps_.size());
  std::vector<std::size_t> ready;
  for (std::size_t i = 0; i < steps_.size(); ++i) {
    pending[i] = deps_[i].size();
    if (pending[i] == 0) {
      ready.push_back(i);
    }
  }
  order_.clear();
  while (!ready.empty()) {
    std::size_t next = ready.back();
    ready.pop_back();
    order_.push_back(next);
    for (std::size_t dependent : dependents_[next]) {
      if (--pending[dependent] == 0) {
        ready.push_back(dependent);
      }
    }
  }
  if (order_.size() != steps_.size()) {
    std::vector<std::string> stuck;
    for (std::size_t i = 0; i < steps_.size(); ++i) {
      if (pending[i] > 0) {
        stuck.push_back(steps_[i].id);
      }
    }
    throw std::logic_error("the steps " + join(stuck, ", ") +
                           " depend on each other in a cycle");
  }
}

std::optional<std::size_t> BuildGraph::find(const std::string& id) const {
  auto found = index_.find(id);
  if (found == index_.end()) {
    return std::nullopt;
  }
  return found->second;
}

std::vector<std::size_t> BuildGraph::stepsOfTarget(
    const std::string& target) const {
  std::vector<std::size_t> result;
  for (std::size_t i = 0; i < steps_.size(); ++i) {
    const auto& targets = steps_[i].targets;
    if (std::find(targets.begin(), targets.end(), target) != targets.end()) {
      result.push_back(i);
    }
  }
  return result;
}

std::vector<bool> BuildGraph::closure(
    const std::vector<std::string>& targets) const {
  std::vector<bool> needed(steps_.size(), false);
  std::vector<std::size_t> pending;
  for (const auto& target : targets) {
    for (std::size_t index : stepsOfTarget(target)) {
      pending.push_back(index);
    }
  }
  while (!pending.empty()) {
    std::size_t index = pending.back();
    pending.pop_back();
    if (needed[index]) {
      continue;
    }
    needed[index] = true;
    for (std::size_t dep : deps_[index]) {
      pending.push_back(dep);
    }
  }
  return needed;
}

std::vector<double> BuildGraph::criticalPath(
    const std::vector<double>& weights) const {
  std::vector<double> path(steps_.size(), 0);
  for (auto it = order_.rbegin(); it != order_.rend(); ++it) {
    double longest = 0;
    for (std::size_t dependent : dependents_[*it]) {
      longest = std::max(longest, path[dependent]);
    }
    path[*it] = weights[*it] + longest;
  }
  return path;
}

namespace {

// The steps of a target that no other step of the same target depends on.
std::vector<std::string> finalSteps(const std::vector<Step>& steps) {
  std::set<std::string> needed;
  for (const auto& step : steps) {
    needed.insert(step.deps.begin(), step.deps.end());
  }
  std::vector<std::string> result;
  for (const auto& step : steps) {
    if (needed.count(step.id) == 0) {
      result.push_back(step.id);
    }
  }
  return result;
}

}  // namespace

// Rejects an input or output path that leaves the repository: kiln would
// hash, restore or (with `kiln clean`) delete files outside it.
void checkInsideRepository(const ExpandContext& context, const Step& step) {
  auto check = [&](const std::string& option, std::string path) {
    if (!path.empty() && path.front() == '!') {
      path.erase(0, 1);
    }
    std::filesystem::path parsed(path);
    bool outside = path.empty() || parsed.is_absolute();
    for (const auto& part : parsed) {
      outside = outside || part == "..";
    }
    if (outside) {
      throw context.optionError(
          option,
          "target '" + step.target + "': " +
              option.substr(0, option.size() - 1) + " '" + path + "' " +
              (path.empty() ? "is empty"
               : parsed.is_absolute()
                   ? "is an absolute path"
                   : "contains '..', which could leave the repository"),
          "give a path relative to the target's dir, without '..'");
    }
  };
  for (const auto& output : step.outputs) {
    check("outputs", output);
  }
  for (const auto& input : step.inputs) {
    check("inputs", input);
  }
}

// The exclusions that keep kiln's state directory (when it lies inside the
// repository, beside a pipeline file there) and, for a catch-all default,
// the outputs of the repository's other steps out of a step's inputs.
void excludeFromDefaults(std::map<std::string, std::vector<Step>>& expanded,
                         const Workspace& workspace) {
  std::map<std::filesystem::path, std::vector<std::string>> outputsByRepo;
  for (const auto& [name, steps] : expanded) {
    for (const auto& step : steps) {
      for (const auto& output : step.outputs) {
        if (!output.empty() && output.front() != '!') {
          outputsByRepo[step.repoRoot].push_back(output);
        }
      }
    }
  }
  for (auto& [name, steps] : expanded) {
    for (auto& step : steps) {
      std::filesystem::path state =
          workspace.stateDir.lexically_relative(step.repoRoot);
      if (!state.empty() && *state.begin() != "..") {
        step.inputs.push_back("!" + state.generic_string());
      }
      if (!step.defaultInputs) {
        continue;
      }
      for (const auto& output : outputsByRepo[step.repoRoot]) {
        if (std::find(step.outputs.begin(), step.outputs.end(), output) ==
            step.outputs.end()) {
          step.inputs.push_back("!" + output);
        }
      }
    }
  }
}

BuildGraph expandTargets(const std::vector<TargetSpec>& targets,
                         const Workspace& workspace,
                         const PluginRegistry& plugins) {
  std::map<std::string, std::vector<Step>> expanded;
  for (const auto& target : targets) {
    const Plugin* plugin = plugins.find(target.plugin);
    if (plugin == nullptr) {
      throw std::logic_error("plugin '" + target.plugin + "' vanished");
    }
    ExpandContext context(target, workspace.repo(target.repo).root);
    std::vector<Step> steps = plugin->expand(context);
    for (auto& step : steps) {
      step.plugin = plugin->name();
      step.pluginVersion = plugin->version();
      if (step.targets.empty()) {
        step.targets = {target.name};
      }
      if (step.target.empty()) {
        step.target = target.name;
      }
      checkInsideRepository(context, step);
    }
    expanded[target.name] = std::move(steps);
  }
  excludeFromDefaults(expanded, workspace);

  BuildGraph graph;
  for (const auto& target : targets) {
    std::vector<std::string> upstream;
    for (const auto& dep : target.deps) {
      for (auto& id : finalSteps(expanded[dep])) {
        upstream.push_back(id);
      }
    }
    for (Step step : expanded[target.name]) {
      if (!step.shared) {
        for (const auto& id : upstream) {
          if (std::find(step.deps.begin(), step.deps.end(), id) ==
              step.deps.end()) {
            step.deps.push_back(id);
          }
        }
      }
      graph.addStep(std::move(step));
    }
  }
  graph.finalize();
  return graph;
}

}  // namespace kiln
