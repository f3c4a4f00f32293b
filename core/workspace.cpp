#include "core/workspace.h"

#include <stdexcept>

#include "util/error.h"

namespace kiln {

namespace fs = std::filesystem;

const ResolvedRepo& Workspace::repo(const std::string& name) const {
  auto found = repos.find(name);
  if (found == repos.end()) {
    throw std::logic_error("repository '" + name + "' was not resolved");
  }
  return found->second;
}

Workspace openWorkspace(const Pipeline& pipeline,
                        const std::optional<fs::path>& baseDir) {
  Workspace workspace;
  if (baseDir) {
    workspace.baseDir = fs::absolute(*baseDir).lexically_normal();
    workspace.stateDir = *workspace.baseDir / ".kiln";
  } else {
    workspace.stateDir = (fs::absolute(pipeline.file).parent_path() / ".kiln")
                             .lexically_normal();
  }

  for (const auto& spec : pipeline.repos) {
    ResolvedRepo repo;
    repo.spec = &spec;
    if (!spec.url.empty()) {
      repo.root = workspace.stateDir / "repos" / spec.name;
      std::string url = spec.url;
      if (url.find("://") == std::string::npos &&
          !fs::path(url).is_absolute()) {
        url = fs::absolute(spec.baseDir / url).lexically_normal().string();
      }
      try {
        checkoutRemote(url, spec.ref, repo.root);
      } catch (const ConfigError&) {
        throw;
      } catch (const UsageError& error) {
        // Point at the repository in the pipeline file: the URL or the
        // ref written there is what to fix.
        throw ConfigError(spec.where,
                          "repository '" + spec.name + "': " + error.what(),
                          error.hint());
      }
    } else {
      fs::path base = workspace.baseDir ? *workspace.baseDir : spec.baseDir;
      repo.root = fs::absolute(base / spec.path).lexically_normal();
      std::error_code error;
      if (!fs::is_directory(repo.root, error)) {
        throw ConfigError(spec.where,
                          "repository '" + spec.name + "': directory " +
                              repo.root.string() + " does not exist",
                          baseDir ? "check 'path:' and the --workspace "
                                    "directory"
                                  : "fix 'path:' (relative to the pipeline "
                                    "file), or pass --workspace DIR");
      }
    }
    if (repo.root.filename().empty()) {
      repo.root = repo.root.parent_path();
    }
    repo.isGit = insideGitWorkTree(repo.root);
    if (!repo.isGit) {
      workspace.warnings.push_back(
          "repository '" + spec.name + "' (" + repo.root.string() +
          ") is not a git repository; its commit and branch are unknown");
    }
    workspace.repos.emplace(spec.name, std::move(repo));
  }
  return workspace;
}

}  // namespace kiln
