#include "core/tool_identity.h"

#include <sys/stat.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "core/process.h"
#include "util/atomic_file.h"
#include "util/sha256.h"
#include "util/strings.h"

namespace kiln {

namespace fs = std::filesystem;

namespace {

// Tools identified by what they print for these arguments.
const std::map<std::string, std::string>& versionArguments() {
  static const std::map<std::string, std::string> kArguments = {
      {"node", "--version"},     {"npm", "--version"},
      {"npx", "--version"},      {"cargo", "--version"},
      {"rustc", "-vV"},          {"rustup", "--version"},
      {"yarn", "--version"},     {"pnpm", "--version"},
      {"python3", "--version"},  {"nginx", "-v"},
      {"xcodebuild", "-version"}};
  return kArguments;
}

std::string stampOf(const fs::path& path) {
  struct stat info;
  if (::stat(path.c_str(), &info) != 0) {
    return "-";
  }
  return std::to_string(info.st_size) + ":" +
         std::to_string(info.st_mtim.tv_sec) + "." +
         std::to_string(info.st_mtim.tv_nsec) + ":" +
         std::to_string(info.st_ino);
}

// Files whose change means the tool may have changed without its binary.
std::string extraStamp(const fs::path& resolved, const std::string& name) {
  std::string stamp;
  if (name == "npm" || name == "npx") {
    stamp += stampOf(resolved.parent_path().parent_path() / "package.json");
  }
  if (name == "cargo" || name == "rustc" || name == "rustup") {
    const char* home = std::getenv("RUSTUP_HOME");
    fs::path rustup = home != nullptr ? fs::path(home)
                                      : fs::path(std::getenv("HOME") != nullptr
                                                     ? std::getenv("HOME")
                                                     : "/") /
                                            ".rustup";
    stamp += stampOf(rustup / "settings.toml") + "|" +
             stampOf(rustup / "toolchains");
  }
  return stamp;
}

std::string runVersion(const fs::path& program, const std::string& argument,
                       const std::string& searchPath) {
  std::string command = "env -i PATH=" + shellQuote(searchPath) + " " +
                        shellQuote(program.string()) + " " + argument + " 2>&1";
  std::FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) {
    return "unknown";
  }
  std::string output;
  std::array<char, 4096> buffer;
  std::size_t count;
  while ((count = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0) {
    output.append(buffer.data(), count);
  }
  ::pclose(pipe);
  while (!output.empty() && (output.back() == '\n' || output.back() == ' ')) {
    output.pop_back();
  }
  return output;
}

}  // namespace

ToolIdentities::ToolIdentities(fs::path file) : file_(std::move(file)) {
  std::string text;
  if (!tryReadFile(file_, &text)) {
    return;
  }
  try {
    nlohmann::json document = nlohmann::json::parse(text);
    for (const auto& [key, value] : document.items()) {
      known_[key] = {value.at(0).get<std::string>(),
                     value.at(1).get<std::string>()};
    }
  } catch (const nlohmann::json::exception&) {
    known_.clear();
  }
}

std::string ToolIdentities::compute(const fs::path& resolved,
                                    const std::string& name,
                                    const std::string& searchPath) {
  auto found = versionArguments().find(name);
  if (found != versionArguments().end()) {
    return name + " " + runVersion(resolved, found->second, searchPath);
  }
  return name + " sha256:" + sha256File(resolved).hex();
}

std::string ToolIdentities::identify(const std::string& name,
                                     const std::string& searchPath,
                                     const fs::path& cwd) {
  fs::path program = findProgram(name, searchPath, cwd);
  if (program.empty()) {
    return name + " not found";
  }
  std::error_code error;
  fs::path resolved = fs::canonical(program, error);
  if (error) {
    resolved = program;
  }
  std::string base = fs::path(name).filename().string();
  std::string key = resolved.string() + "|" + base;
  std::string stamp = stampOf(resolved) + "|" + extraStamp(resolved, base);
  {
    std::lock_guard lock(mutex_);
    auto known = known_.find(key);
    if (known != known_.end() && known->second.first == stamp) {
      return known->second.second;
    }
  }
  std::string identity = compute(resolved, base, searchPath);
  std::lock_guard lock(mutex_);
  known_[key] = {stamp, identity};
  dirty_ = true;
  return identity;
}

void ToolIdentities::save() {
  std::lock_guard lock(mutex_);
  if (!dirty_) {
    return;
  }
  nlohmann::json document = nlohmann::json::object();
  for (const auto& [key, value] : known_) {
    document[key] = {value.first, value.second};
  }
  writeFileAtomic(file_, document.dump(1) + "\n");
  dirty_ = false;
}

}  // namespace kiln
