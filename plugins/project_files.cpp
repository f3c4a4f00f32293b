#include "plugins/project_files.h"

#include <unistd.h>

#include <cstdlib>

#include "util/atomic_file.h"
#include "util/error.h"
#include "util/strings.h"

namespace kiln {

namespace fs = std::filesystem;

std::string joinRelative(const std::string& dir, const std::string& path) {
  if (dir.empty() || dir == ".") {
    return path;
  }
  if (path.empty() || path == ".") {
    return dir;
  }
  return dir + "/" + path;
}

std::string parentRelative(const std::string& path) {
  std::size_t slash = path.rfind('/');
  return slash == std::string::npos ? "" : path.substr(0, slash);
}

std::optional<std::string> readProjectFile(const fs::path& file) {
  std::string text;
  if (!tryReadFile(file, &text)) {
    return std::nullopt;
  }
  return text;
}

std::optional<nlohmann::json> readOptionalJsonFile(const fs::path& file) {
  std::optional<std::string> text = readProjectFile(file);
  if (!text) {
    return std::nullopt;
  }
  try {
    return nlohmann::json::parse(*text, nullptr, true,
                                 /*ignore_comments=*/true);
  } catch (const nlohmann::json::parse_error& error) {
    throw UsageError("invalid JSON in " + file.string() + ": " + error.what(),
                     "fix the syntax of " + file.filename().string());
  }
}

nlohmann::json readJsonFile(const fs::path& file) {
  std::optional<nlohmann::json> json = readOptionalJsonFile(file);
  if (!json) {
    throw UsageError(file.string() + " not found or not readable",
                     "create " + file.filename().string() +
                         ", or point the target's 'dir' at the project");
  }
  return *json;
}

std::string jsonString(const nlohmann::json& object, const std::string& key,
                       const std::string& fallback) {
  if (!object.is_object()) {
    return fallback;
  }
  auto found = object.find(key);
  if (found == object.end() || !found->is_string()) {
    return fallback;
  }
  return found->get<std::string>();
}

bool foundOnPath(const std::string& program) {
  const char* path = std::getenv("PATH");
  if (path == nullptr) {
    return false;
  }
  for (const auto& dir : split(path, ':')) {
    fs::path candidate = fs::path(dir.empty() ? "." : dir) / program;
    if (::access(candidate.c_str(), X_OK) == 0 && !isDirectory(candidate)) {
      return true;
    }
  }
  return false;
}

bool isDirectory(const fs::path& path) {
  std::error_code error;
  return fs::is_directory(path, error);
}

Step makeSharedStep(const ExpandContext& context, const std::string& id,
                    const std::string& description,
                    const std::string& workingDir) {
  Step step = context.makeStep(id, description);
  step.shared = true;
  step.workingDir = workingDir;
  step.env.clear();
  return step;
}

std::string relativePathOption(const ExpandContext& context,
                               const std::string& option,
                               const std::string& fallback) {
  if (!context.has(option)) {
    return fallback;
  }
  std::string value = context.string(option);
  fs::path path(value);
  bool escapes = path.is_absolute();
  for (const auto& part : path) {
    escapes = escapes || part == "..";
  }
  if (value.empty() || escapes) {
    throw context.optionError(
        option, "'" + option + "' must be a path inside the target directory",
        "give a relative path without '..', such as " + fallback);
  }
  return value;
}

int portOption(const ExpandContext& context, const std::string& option,
               int fallback) {
  if (!context.has(option)) {
    return fallback;
  }
  long long port = context.integer(option, fallback);
  if (port < 1 || port > 65535) {
    throw context.optionError(option, "invalid port " + std::to_string(port),
                              "give a TCP port from 1 to 65535");
  }
  return static_cast<int>(port);
}

}  // namespace kiln
