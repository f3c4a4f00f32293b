#include "core/targets.h"

#include <algorithm>
#include <functional>
#include <map>
#include <set>

#include "util/error.h"
#include "util/glob.h"
#include "util/strings.h"

namespace kiln {

namespace {

namespace fs = std::filesystem;

// Lists directories below `root` whose relative path matches `pattern`.
std::vector<std::string> matchDirectories(const fs::path& root,
                                          const std::string& pattern) {
  Glob glob(pattern);
  std::vector<std::string> found;
  std::function<void(const fs::path&, const std::string&)> walk =
      [&](const fs::path& dir, const std::string& relative) {
        std::error_code error;
        std::vector<std::string> children;
        for (const auto& entry : fs::directory_iterator(dir, error)) {
          if (entry.is_directory(error) && !entry.is_symlink(error)) {
            children.push_back(entry.path().filename().string());
          }
        }
        std::sort(children.begin(), children.end());
        for (const auto& name : children) {
          if (name == ".git" || name == "node_modules") {
            continue;
          }
          std::string path = relative.empty() ? name : relative + "/" + name;
          if (glob.matches(path)) {
            found.push_back(path);
          }
          if (glob.mayMatchBelow(path)) {
            walk(dir / name, path);
          }
        }
      };
  walk(root, "");
  return found;
}

void expandDiscovery(const Pipeline& pipeline, const Workspace& workspace,
                     std::vector<TargetSpec>& targets) {
  for (const auto& rule : pipeline.discover) {
    const ResolvedRepo& repo = workspace.repo(rule.repo);
    std::vector<std::string> dirs = matchDirectories(repo.root, rule.dir);
    std::size_t added = 0;
    for (const auto& dir : dirs) {
      std::string name = fs::path(dir).filename().string();
      if (std::find(rule.exclude.begin(), rule.exclude.end(), name) !=
          rule.exclude.end()) {
        continue;
      }
      TargetSpec target;
      static_cast<TargetFields&>(target) = rule;
      target.name = name;
      target.dir = dir;
      target.keyLocations["name"] = rule.locationOf("dir");
      targets.push_back(std::move(target));
      ++added;
    }
    if (added == 0) {
      throw ConfigError(rule.locationOf("dir"),
                        "discover rule '" + rule.dir +
                            "' matches no directory in " + repo.root.string(),
                        "fix the glob, or remove the rule");
    }
  }
}

void checkUniqueNames(const std::vector<TargetSpec>& targets) {
  std::map<std::string, const TargetSpec*> seen;
  for (const auto& target : targets) {
    auto [it, inserted] = seen.emplace(target.name, &target);
    if (!inserted) {
      throw ConfigError(target.locationOf("name"),
                        "duplicate target name '" + target.name +
                            "', also defined at " +
                            it->second->locationOf("name").str(),
                        "rename one, or add '" + target.name +
                            "' to the discover rule's 'exclude'");
    }
  }
}

bool matchesAny(const std::vector<std::string>& patterns,
                const std::string& name) {
  for (const auto& pattern : patterns) {
    if (matchSegment(pattern, name)) {
      return true;
    }
  }
  return false;
}

std::vector<TargetSpec> applyIncludeFilters(const Pipeline& pipeline,
                                            std::vector<TargetSpec> targets) {
  if (pipeline.includeFilters.empty()) {
    return targets;
  }
  std::map<std::string, const TargetSpec*> byName;
  for (const auto& target : targets) {
    byName[target.name] = &target;
  }
  std::vector<bool> filterUsed(pipeline.includeFilters.size(), false);
  std::set<std::string> kept;
  std::vector<std::string> pending;
  for (const auto& target : targets) {
    bool passes = true;
    for (std::size_t index : target.includeFilters) {
      if (matchesAny(pipeline.includeFilters[index].patterns, target.name)) {
        filterUsed[index] = true;
      } else {
        passes = false;
      }
    }
    if (passes) {
      pending.push_back(target.name);
    }
  }
  while (!pending.empty()) {
    std::string name = pending.back();
    pending.pop_back();
    auto found = byName.find(name);
    if (found == byName.end() || !kept.insert(name).second) {
      continue;
    }
    for (const auto& dep : found->second->deps) {
      pending.push_back(dep);
    }
  }
  for (std::size_t i = 0; i < filterUsed.size(); ++i) {
    if (!filterUsed[i]) {
      throw ConfigError(pipeline.includeFilters[i].where,
                        "the include's target filter matches no target",
                        "fix the names under 'targets:'");
    }
  }
  std::vector<TargetSpec> result;
  for (auto& target : targets) {
    if (kept.count(target.name) > 0) {
      result.push_back(std::move(target));
    }
  }
  return result;
}

void checkDeps(const std::vector<TargetSpec>& targets) {
  std::vector<std::string> names;
  for (const auto& target : targets) {
    names.push_back(target.name);
  }
  std::set<std::string> known(names.begin(), names.end());
  for (const auto& target : targets) {
    for (const auto& dep : target.deps) {
      if (known.count(dep) == 0) {
        std::string hint = suggestion(dep, names);
        throw ConfigError(target.locationOf("deps"),
                          "target '" + target.name +
                              "' depends on unknown target '" + dep + "'",
                          hint.empty() ? "remove it from 'deps'" : hint);
      }
      if (dep == target.name) {
        throw ConfigError(target.locationOf("deps"),
                          "target '" + target.name + "' depends on itself",
                          "remove '" + dep + "' from its 'deps'");
      }
    }
  }
  std::vector<std::string> cycle = findTargetCycle(targets);
  if (!cycle.empty()) {
    const TargetSpec* first = nullptr;
    for (const auto& target : targets) {
      if (target.name == cycle.front()) {
        first = &target;
      }
    }
    throw ConfigError(first->locationOf("deps"),
                      "dependency cycle: " + join(cycle, " -> "),
                      "remove one of these dependencies");
  }
}

}  // namespace

std::vector<std::string> findTargetCycle(
    const std::vector<TargetSpec>& targets) {
  std::map<std::string, const TargetSpec*> byName;
  for (const auto& target : targets) {
    byName[target.name] = &target;
  }
  enum class Mark { kNew, kOpen, kDone };
  std::map<std::string, Mark> marks;
  std::vector<std::string> stack;
  std::vector<std::string> cycle;

  std::function<bool(const std::string&)> visit = [&](const std::string& name) {
    Mark& mark = marks[name];
    if (mark == Mark::kDone) {
      return false;
    }
    if (mark == Mark::kOpen) {
      auto start = std::find(stack.begin(), stack.end(), name);
      cycle.assign(start, stack.end());
      cycle.push_back(name);
      return true;
    }
    mark = Mark::kOpen;
    stack.push_back(name);
    auto found = byName.find(name);
    if (found != byName.end()) {
      for (const auto& dep : found->second->deps) {
        if (visit(dep)) {
          return true;
        }
      }
    }
    stack.pop_back();
    marks[name] = Mark::kDone;
    return false;
  };
  for (const auto& target : targets) {
    if (visit(target.name)) {
      return cycle;
    }
  }
  return {};
}

std::vector<TargetSpec> resolveTargets(const Pipeline& pipeline,
                                       const Workspace& workspace) {
  std::vector<TargetSpec> targets = pipeline.targets;
  expandDiscovery(pipeline, workspace, targets);
  checkUniqueNames(targets);
  targets = applyIncludeFilters(pipeline, std::move(targets));
  checkDeps(targets);
  return targets;
}

std::vector<std::string> selectTargets(
    const std::vector<TargetSpec>& targets,
    const std::vector<std::string>& selectors) {
  std::vector<std::string> names;
  for (const auto& target : targets) {
    names.push_back(target.name);
  }
  if (selectors.empty()) {
    return names;
  }
  std::vector<std::string> selected;
  auto add = [&](const std::string& name) {
    if (std::find(selected.begin(), selected.end(), name) == selected.end()) {
      selected.push_back(name);
    }
  };
  for (const auto& selector : selectors) {
    bool matched = false;
    std::size_t colon = selector.find(':');
    if (colon != std::string::npos) {
      std::string repo = selector.substr(0, colon);
      std::string pattern = selector.substr(colon + 1);
      if (pattern.empty()) {
        pattern = "*";
      }
      for (const auto& target : targets) {
        if (target.repo == repo && matchSegment(pattern, target.name)) {
          add(target.name);
          matched = true;
        }
      }
    } else {
      for (const auto& target : targets) {
        if (target.name == selector ||
            (hasWildcard(selector) && matchSegment(selector, target.name))) {
          add(target.name);
          matched = true;
        }
      }
    }
    if (!matched) {
      std::string hint = suggestion(selector, names);
      throw UsageError(
          "no target matches '" + selector + "'",
          hint.empty() ? "run 'kiln ls' to list the targets" : hint);
    }
  }
  return selected;
}

}  // namespace kiln
