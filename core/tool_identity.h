#pragma once

#include <filesystem>
#include <map>
#include <mutex>
#include <string>

namespace kiln {

/// Identifies the programs steps run, for their action keys. For tools
/// whose binary can stay the same across versions (npm's launcher script,
/// rustup's proxies for cargo and rustc) and for node, the identity is the
/// tool's own version output; for any other program it is the SHA-256 of
/// the resolved binary. Identities are remembered per resolved path and stat
/// data, in a file in the workspace's state directory, so a no-op build runs
/// no tool.
class ToolIdentities {
 public:
  explicit ToolIdentities(std::filesystem::path file);

  /// Returns the identity of `name` as found on `searchPath` (a PATH value),
  /// or "not found" if it is not there. Thread-safe.
  std::string identify(const std::string& name, const std::string& searchPath,
                       const std::filesystem::path& cwd);

  /// Writes the remembered identities back if any were added.
  void save();

 private:
  std::string compute(const std::filesystem::path& resolved,
                      const std::string& name, const std::string& searchPath);

  std::filesystem::path file_;
  std::mutex mutex_;
  std::map<std::string, std::pair<std::string, std::string>> known_;  // stamp
  bool dirty_ = false;
};

}  // namespace kiln
