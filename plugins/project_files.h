#pragma once

// Helpers that the artifact plugins share for reading a project's files and
// for declaring steps.

#include <nlohmann/json.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/plugin.h"

namespace kiln {

/// Joins two '/'-separated relative paths; an empty side is left out.
std::string joinRelative(const std::string& dir, const std::string& path);

/// The parent of a '/'-separated relative path ("" for a top-level name).
std::string parentRelative(const std::string& path);

/// Reads a whole file of the project; std::nullopt if it is missing or
/// unreadable.
std::optional<std::string> readProjectFile(const std::filesystem::path& file);

/// Parses a JSON file. Comments are allowed, as in tsconfig.json. Throws
/// UsageError naming the file when it is missing or is not valid JSON.
nlohmann::json readJsonFile(const std::filesystem::path& file);

/// Like readJsonFile, but returns std::nullopt for a missing file.
std::optional<nlohmann::json> readOptionalJsonFile(
    const std::filesystem::path& file);

/// The string at `key` of a JSON object, or `fallback` when the key is
/// absent or not a string.
std::string jsonString(const nlohmann::json& object, const std::string& key,
                       const std::string& fallback = {});

/// Returns true if `program` is an executable file in a directory of PATH.
bool foundOnPath(const std::string& program);

/// Returns true if `path` exists and is a directory.
bool isDirectory(const std::filesystem::path& path);

/// A step with the target's common fields, marked shared: several targets
/// declare it identically (an install per lockfile), so it takes none of the
/// target's own variables and runs in `workingDir` (relative to the
/// repository root).
Step makeSharedStep(const ExpandContext& context, const std::string& id,
                    const std::string& description,
                    const std::string& workingDir);

/// Returns a string option that contains a relative path inside the target's
/// directory, or `fallback` when the option is absent. Throws ConfigError
/// at the option for an absolute path or one with "..".
std::string relativePathOption(const ExpandContext& context,
                               const std::string& option,
                               const std::string& fallback);

/// Validates an optional integer option that contains a TCP port; returns
/// `fallback` when the option is absent. Throws ConfigError at the option.
int portOption(const ExpandContext& context, const std::string& option,
               int fallback);

}  // namespace kiln
