#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "core/graph.h"
#include "core/pipeline.h"
#include "core/workspace.h"

namespace kiln {

/// The files of a repository that changed since a ref.
struct ChangedFiles {
  bool known = false;  // false: the ref was not found, so anything may differ
  std::string reason;  // why not known
  std::vector<std::string> paths;  // relative to the repository root
};

/// Lists the files that differ between the merge base of HEAD and `ref`
/// and the working tree: committed, staged and unstaged changes, and
/// untracked files that git does not ignore. `ref` is a branch, tag or
/// commit ("origin/main").
ChangedFiles changedSince(const std::filesystem::path& repoRoot,
                          const std::string& ref);

/// Finds the targets affected by changes since a ref in each repository:
/// targets with a step whose input globs match a changed file, then every
/// target that depends on one of them. A repository whose ref is missing
/// (a shallow clone, say) makes all of its targets affected; `warnings`
/// says so. `refs` maps repository names to refs; "*" applies to the rest.
std::vector<std::string> affectedTargets(
    const std::vector<TargetSpec>& targets, const BuildGraph& graph,
    const Workspace& workspace, const std::map<std::string, std::string>& refs,
    std::vector<std::string>* warnings);

/// Parses "I/N" (1 <= I <= N). Throws UsageError otherwise.
std::pair<int, int> parseShard(const std::string& text);

/// Keeps the targets of one shard: targets sorted by name are dealt to N
/// shards in turn, so the split is the same on every runner.
std::vector<std::string> shardTargets(std::vector<std::string> targets,
                                      int index, int count);

}  // namespace kiln
