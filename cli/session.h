#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/graph.h"
#include "core/pipeline.h"
#include "core/plugin.h"
#include "core/workspace.h"

namespace kiln {

/// Options shared by every command that reads a pipeline.
struct GlobalOptions {
  std::filesystem::path pipeline = "kiln.yaml";
  std::optional<std::filesystem::path> workspace;
};

/// A pipeline loaded, its repositories located, its targets resolved and
/// expanded into the build graph.
struct Session {
  Pipeline pipeline;
  Workspace workspace;
  std::vector<TargetSpec> targets;
  BuildGraph graph;
};

/// Loads everything a command needs. Throws UsageError or ConfigError.
Session loadSession(const GlobalOptions& options,
                    const PluginRegistry& plugins);

}  // namespace kiln
