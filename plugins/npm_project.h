#pragma once

// npm projects as the Node plugins (nestjs, sveltekit, astro-nginx) see them:
// the directory with the lockfile, its workspaces, and the shared install
// steps declared once per lockfile.

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "core/plugin.h"

namespace kiln {

/// One package of an npm workspace.
struct NpmWorkspace {
  std::string dir;  // relative to the repository root
  std::string name;
  nlohmann::json manifest;  // its package.json
};

/// The npm project that a target's packages are installed from: the
/// directory holding package.json and the lockfile.
struct NpmProject {
  std::string dir;          // relative to the repository root, "" for the root
  std::string lockfile;     // "package-lock.json" or "npm-shrinkwrap.json"
  nlohmann::json manifest;  // the root package.json
  nlohmann::json lock;
  std::vector<NpmWorkspace> workspaces;

  /// The prefix of the shared steps' ids: the repository name, followed by
  /// "/DIR" when the project is not at the repository root.
  std::string stepPrefix(const std::string& repo) const;
  /// The id of the `npm ci` step of this lockfile.
  std::string installId(const std::string& repo) const;
  /// The id of the production dependency step of this lockfile.
  std::string productionId(const std::string& repo) const;
  /// The workspace with this package name, or nullptr.
  const NpmWorkspace* findWorkspace(const std::string& name) const;
  /// The workspace in this directory (repository-relative), or nullptr.
  const NpmWorkspace* workspaceAt(const std::string& dir) const;
};

/// Directory of the production dependencies, relative to the project
/// directory: `.kiln-out/prod/node_modules`. A usual `node_modules/` line
/// in .gitignore already hides it from git.
extern const char* const kProductionModulesDir;

/// Locates the npm project of the package in `packageDir` (relative to the
/// repository root): the topmost ancestor whose package.json lists the
/// package among its workspaces, else the nearest directory with a
/// package.json at or above `packageDir`. Throws UsageError naming the file
/// when package.json or the lockfile is missing or invalid.
NpmProject findNpmProject(const ExpandContext& context,
                          const std::string& packageDir);

/// The shared `npm ci --no-audit --no-fund` step of the project. Its outputs
/// are node_modules and every nested node_modules directory the lockfile
/// lists.
Step npmInstallStep(const ExpandContext& context, const NpmProject& project);

/// A workspace library to copy into the production node_modules in place of
/// npm's link: its package.json, `output` (its build output, relative to the
/// library) and the entries of its "files" list.
struct ProductionLibrary {
  std::string dir;     // relative to the repository root
  std::string output;  // relative to `dir`, such as "dist"
};

/// The two shared steps of the production dependencies: one writes a Node
/// script to `.kiln-out/prod-install.mjs`, the other runs it. The script
/// runs `npm ci --omit=dev` for the project in a scratch directory and
/// moves the result to kProductionModulesDir. Links to the `libraries`
/// become real directories; links to other workspace packages
/// (applications) are removed. `deps` are the libraries' build steps. The
/// install step comes last.
std::vector<Step> productionInstallSteps(
    const ExpandContext& context, const NpmProject& project,
    const std::vector<ProductionLibrary>& libraries,
    const std::vector<std::string>& deps);

/// Returns true if package.json lists `name` in "dependencies" or
/// "devDependencies".
bool declaresDependency(const nlohmann::json& manifest,
                        const std::string& name);

/// Names of the packages in "dependencies" (and "devDependencies" when
/// `includeDev`), sorted.
std::vector<std::string> dependencyNames(const nlohmann::json& manifest,
                                         bool includeDev);

/// Returns true if package.json defines the npm script `name`.
bool hasScript(const nlohmann::json& manifest, const std::string& name);

}  // namespace kiln
