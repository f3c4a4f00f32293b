#include "core/affected.h"

#include <git2.h>

#include <algorithm>
#include <memory>
#include <set>

#include "util/error.h"
#include "util/glob.h"
#include "util/strings.h"

namespace kiln {

namespace fs = std::filesystem;

namespace {

template <typename T, void (*Free)(T*)>
struct GitDeleter {
  void operator()(T* object) const { Free(object); }
};
template <typename T, void (*Free)(T*)>
using GitPtr = std::unique_ptr<T, GitDeleter<T, Free>>;

std::string lastGitError() {
  const git_error* error = git_error_last();
  return error != nullptr && error->message != nullptr ? error->message
                                                       : "unknown error";
}

}  // namespace

ChangedFiles changedSince(const fs::path& repoRoot, const std::string& ref) {
  git_libgit2_init();
  ChangedFiles result;
  git_repository* rawRepo = nullptr;
  if (git_repository_open_ext(&rawRepo, repoRoot.c_str(), 0, nullptr) != 0) {
    result.reason = repoRoot.string() + " is not a git repository";
    return result;
  }
  GitPtr<git_repository, git_repository_free> repo(rawRepo);

  git_object* rawTarget = nullptr;
  if (git_revparse_single(&rawTarget, repo.get(), ref.c_str()) != 0) {
    std::string error = lastGitError();
    result.reason = "ref '" + ref + "' not found (" + error + ")" +
                    (git_repository_is_shallow(repo.get()) == 1
                         ? "; this is a shallow clone, so fetch it first"
                         : "; check the ref's name, or fetch it");
    return result;
  }
  GitPtr<git_object, git_object_free> target(rawTarget);
  git_oid head;
  if (git_reference_name_to_id(&head, repo.get(), "HEAD") != 0) {
    result.reason = "HEAD has no commit";
    return result;
  }
  git_object* rawCommit = nullptr;
  if (git_object_peel(&rawCommit, target.get(), GIT_OBJECT_COMMIT) != 0) {
    result.reason = "ref '" + ref + "' is not a commit";
    return result;
  }
  GitPtr<git_object, git_object_free> commit(rawCommit);
  git_oid base;
  if (git_merge_base(&base, repo.get(), &head, git_object_id(commit.get())) !=
      0) {
    result.reason = "no merge base of HEAD and '" + ref +
                    "' (a shallow clone?); fetch more history";
    return result;
  }
  git_commit* rawBase = nullptr;
  git_tree* rawTree = nullptr;
  if (git_commit_lookup(&rawBase, repo.get(), &base) != 0 ||
      git_commit_tree(&rawTree, rawBase) != 0) {
    git_commit_free(rawBase);
    result.reason = "cannot read the merge base: " + lastGitError();
    return result;
  }
  git_commit_free(rawBase);
  GitPtr<git_tree, git_tree_free> tree(rawTree);

  git_diff_options options = GIT_DIFF_OPTIONS_INIT;
  options.flags = GIT_DIFF_INCLUDE_UNTRACKED | GIT_DIFF_RECURSE_UNTRACKED_DIRS;
  git_diff* rawDiff = nullptr;
  if (git_diff_tree_to_workdir_with_index(&rawDiff, repo.get(), tree.get(),
                                          &options) != 0) {
    result.reason = "git diff failed: " + lastGitError();
    return result;
  }
  GitPtr<git_diff, git_diff_free> diff(rawDiff);

  // Paths in the diff are relative to the git work tree, which may be a
  // parent of the repository root kiln was given.
  fs::path workdir = fs::path(git_repository_workdir(repo.get()));
  std::string prefix =
      fs::relative(fs::canonical(repoRoot), fs::canonical(workdir)).string();
  if (prefix == ".") {
    prefix.clear();
  }
  std::set<std::string> paths;
  for (std::size_t i = 0; i < git_diff_num_deltas(diff.get()); ++i) {
    const git_diff_delta* delta = git_diff_get_delta(diff.get(), i);
    for (const char* path : {delta->old_file.path, delta->new_file.path}) {
      if (path == nullptr) {
        continue;
      }
      std::string text = path;
      if (prefix.empty()) {
        paths.insert(text);
      } else if (startsWith(text, prefix + "/")) {
        paths.insert(text.substr(prefix.size() + 1));
      }
    }
  }
  result.known = true;
  result.paths.assign(paths.begin(), paths.end());
  return result;
}

std::vector<std::string> affectedTargets(
    const std::vector<TargetSpec>& targets, const BuildGraph& graph,
    const Workspace& workspace, const std::map<std::string, std::string>& refs,
    std::vector<std::string>* warnings) {
  std::map<std::string, ChangedFiles> changes;
  for (const auto& [name, repo] : workspace.repos) {
    auto found = refs.find(name);
    if (found == refs.end()) {
      found = refs.find("*");
    }
    if (found == refs.end()) {
      continue;  // not compared: nothing of it counts as changed
    }
    ChangedFiles changed = changedSince(repo.root, found->second);
    if (!changed.known) {
      warnings->push_back("repository '" + name + "': " + changed.reason +
                          "; building all of its targets");
    }
    changes[name] = std::move(changed);
  }

  std::set<std::string> affected;
  for (const auto& target : targets) {
    auto change = changes.find(target.repo);
    if (change == changes.end()) {
      continue;
    }
    if (!change->second.known) {
      affected.insert(target.name);
      continue;
    }
    for (std::size_t index : graph.stepsOfTarget(target.name)) {
      GlobSet inputs(graph.step(index).inputs);
      bool hit = std::any_of(
          change->second.paths.begin(), change->second.paths.end(),
          [&](const std::string& path) { return inputs.matches(path); });
      if (hit && graph.step(index).repo == target.repo) {
        affected.insert(target.name);
        break;
      }
    }
  }

  // Dependents of affected targets are affected too.
  bool grew = true;
  while (grew) {
    grew = false;
    for (const auto& target : targets) {
      if (affected.count(target.name) > 0) {
        continue;
      }
      for (const auto& dep : target.deps) {
        if (affected.count(dep) > 0) {
          affected.insert(target.name);
          grew = true;
          break;
        }
      }
    }
  }
  std::vector<std::string> result;
  for (const auto& target : targets) {
    if (affected.count(target.name) > 0) {
      result.push_back(target.name);
    }
  }
  return result;
}

std::pair<int, int> parseShard(const std::string& text) {
  std::vector<std::string> parts = split(text, '/');
  int index = 0;
  int count = 0;
  try {
    if (parts.size() == 2) {
      index = std::stoi(parts[0]);
      count = std::stoi(parts[1]);
    }
  } catch (const std::exception&) {
    index = 0;
  }
  if (count < 1 || index < 1 || index > count) {
    throw UsageError("invalid --shard '" + text + "'",
                     "write I/N with 1 <= I <= N, such as 2/3");
  }
  return {index, count};
}

std::vector<std::string> shardTargets(std::vector<std::string> targets,
                                      int index, int count) {
  std::sort(targets.begin(), targets.end());
  std::vector<std::string> mine;
  for (std::size_t i = 0; i < targets.size(); ++i) {
    if (static_cast<int>(i % static_cast<std::size_t>(count)) == index - 1) {
      mine.push_back(targets[i]);
    }
  }
  return mine;
}

}  // namespace kiln
