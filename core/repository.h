#pragma once

#include <filesystem>
#include <string>

namespace kiln {

/// What git says of a checkout. For a directory that is not a git
/// repository, `isGit` is false and the rest is empty.
struct GitState {
  bool isGit = false;
  std::string headCommit;  // full hex id, empty for an unborn branch
  std::string branch;      // short name, empty when HEAD is detached
};

/// Reads HEAD and the branch of the repository that contains `dir`, through
/// libgit2. Does not read the index or the work tree.
GitState readGitState(const std::filesystem::path& dir);

/// Whether `dir` or one of its parents contains a `.git` entry (a directory, or
/// the file of a linked work tree or submodule). It starts no libgit2, whose
/// start-up reads every CA certificate: a no-op build asks only this.
bool insideGitWorkTree(const std::filesystem::path& dir);

/// Returns true if the work tree or index differs from HEAD, ignoring files
/// that git ignores. Throws std::runtime_error if `dir` is not a repository.
bool isDirty(const std::filesystem::path& dir);

/// Makes `dest` a checkout of `url` at `ref` (a branch, tag or commit id;
/// empty means the remote's default branch): clones it if absent, else
/// fetches and checks the ref out, discarding local changes in `dest`.
/// Throws UsageError when the URL cannot be cloned or the ref is unknown.
void checkoutRemote(const std::string& url, const std::string& ref,
                    const std::filesystem::path& dest);

}  // namespace kiln
