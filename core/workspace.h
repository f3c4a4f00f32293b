#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/pipeline.h"
#include "core/repository.h"

namespace kiln {

/// A repository of the pipeline, located on disk.
struct ResolvedRepo {
  const RepoSpec* spec = nullptr;
  std::filesystem::path root;  // absolute, normalized
  /// Whether `root` is inside a git work tree; `kiln ls --repos` reads the
  /// rest with readGitState, which a build never needs.
  bool isGit = false;
};

/// The pipeline's repositories on disk and the directory for kiln's own
/// state (logs, the build record, the lock, clones of URL repositories).
struct Workspace {
  /// Base of repository paths: --workspace DIR, else each repository's
  /// pipeline-file directory.
  std::optional<std::filesystem::path> baseDir;
  /// kiln's state directory: DIR/.kiln with --workspace DIR, else .kiln
  /// beside the pipeline file.
  std::filesystem::path stateDir;
  std::map<std::string, ResolvedRepo> repos;
  /// Warnings to show the user once, such as a repository that is not a git
  /// checkout.
  std::vector<std::string> warnings;

  const ResolvedRepo& repo(const std::string& name) const;
  std::filesystem::path logDir() const { return stateDir / "logs"; }
};

/// Locates each repository: a local path must exist (else a ConfigError at
/// the repository's line); a URL is cloned or updated under the state
/// directory. Reads each repository's git state.
Workspace openWorkspace(const Pipeline& pipeline,
                        const std::optional<std::filesystem::path>& baseDir);

}  // namespace kiln
