#pragma once

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "util/error.h"

namespace kiln {

/// A repository named in a pipeline: a local path, or a URL and ref that kiln
/// clones into the workspace.
struct RepoSpec {
  std::string name;
  std::string path;  // as written; resolved against the base directory
  std::string url;
  std::string ref;
  std::filesystem::path baseDir;  // directory that `path` is relative to
  SourceLocation where;
};

/// Fields shared by a target and a discovery rule.
struct TargetFields {
  std::string plugin;
  std::string repo;
  std::string dir;
  std::vector<std::string> deps;
  std::map<std::string, std::string> env;
  std::vector<std::string> passEnv;
  std::optional<bool> cache;
  std::optional<std::chrono::milliseconds> timeout;
  std::map<std::string, YAML::Node> options;  // plugin options, by key
  std::map<std::string, SourceLocation> keyLocations;
  SourceLocation where;
  /// Indexes into Pipeline::includeFilters of every include that brought
  /// this target in; the target is kept only if it passes all of them.
  std::vector<std::size_t> includeFilters;

  /// The location of a key's value, or of the target if the key is absent.
  SourceLocation locationOf(const std::string& key) const;
};

/// A named thing a user asks for, expanded by its plugin into steps.
struct TargetSpec : TargetFields {
  std::string name;
};

/// A rule that makes one target per directory matching `dir` (a glob such
/// as "apps/*"), named after the directory.
struct DiscoverRule : TargetFields {
  std::vector<std::string> exclude;  // directory names to leave out
};

/// A parsed pipeline file, with its includes already merged in. Discovery
/// rules are expanded later, once repositories are resolved.
struct Pipeline {
  std::filesystem::path file;
  std::vector<RepoSpec> repos;
  std::vector<TargetSpec> targets;
  std::vector<DiscoverRule> discover;
  /// Target filters of includes. They are applied after discovery: a target
  /// is kept if its name matches every filter that applies to it, or if a
  /// kept target depends on it.
  struct IncludeFilter {
    std::vector<std::string> patterns;
    SourceLocation where;
  };
  std::vector<IncludeFilter> includeFilters;

  const RepoSpec* findRepo(const std::string& name) const;
};

}  // namespace kiln
