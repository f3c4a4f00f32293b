#pragma once

#include <filesystem>

#include "core/pipeline.h"
#include "core/plugin.h"

namespace kiln {

/// Reads a pipeline file and the files it includes, and checks everything
/// that needs no repository: YAML syntax, keys (with a did-you-mean), value
/// types, plugin names and options, repository references, duplicate
/// names. Throws ConfigError naming file:line:col and the fix.
Pipeline loadPipeline(const std::filesystem::path& file,
                      const PluginRegistry& plugins);

/// The same, from text (for tests); `file` only names the source in errors.
Pipeline parsePipeline(const std::string& text,
                       const std::filesystem::path& file,
                       const PluginRegistry& plugins);

}  // namespace kiln
