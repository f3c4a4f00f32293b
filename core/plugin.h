#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/pipeline.h"
#include "core/step.h"

namespace kiln {

/// The YAML type a plugin option takes.
enum class OptionType {
  kString,
  kStringList,
  kStringMap,
  kBool,
  kInteger,
  kMap,  // a map whose keys the plugin checks itself (ExpandContext::node)
};

/// One plugin option, validated when the pipeline loads.
struct OptionSpec {
  std::string name;
  OptionType type = OptionType::kString;
  bool required = false;
  std::string help;
  std::string defaultValue;  // shown by `kiln plugins`
};

std::string optionTypeName(OptionType type);

/// What a plugin sees of one target while it expands it.
class ExpandContext {
 public:
  ExpandContext(const TargetSpec& target, std::filesystem::path repoRoot)
      : target_(target), repoRoot_(std::move(repoRoot)) {}

  const TargetSpec& target() const { return target_; }
  /// Absolute checkout directory of the target's repository.
  const std::filesystem::path& repoRoot() const { return repoRoot_; }
  /// Absolute directory of the target (repoRoot / dir).
  std::filesystem::path targetDir() const;

  bool has(const std::string& option) const;
  /// Whether the option is written as one scalar (a list option accepts one
  /// value without brackets).
  bool isScalar(const std::string& option) const;
  std::string string(const std::string& option,
                     const std::string& fallback = {}) const;
  std::vector<std::string> stringList(const std::string& option) const;
  std::map<std::string, std::string> stringMap(const std::string& option) const;
  bool boolean(const std::string& option, bool fallback) const;
  long long integer(const std::string& option, long long fallback) const;
  /// The option's YAML value, for kMap options; a null node if absent.
  YAML::Node node(const std::string& option) const;
  /// The location of a key inside a kMap option, for errors.
  SourceLocation locationIn(const std::string& option,
                            const std::string& key) const;

  /// A ConfigError at the option's place in the pipeline file.
  ConfigError optionError(const std::string& option, const std::string& message,
                          const std::string& hint = {}) const;

  /// A Step with the target's common fields filled in: id, target, repo,
  /// working directory (the target's dir), env, passEnv, cache, timeout.
  Step makeStep(const std::string& id, const std::string& description) const;

 private:
  const TargetSpec& target_;
  std::filesystem::path repoRoot_;
};

/// An artifact kind: turns a target into steps. A plugin only declares
/// steps; it never spawns processes, touches the cache or writes outputs. It
/// may read the repository to decide what to declare and may reject a
/// misconfigured project with a UsageError that names the file and the fix.
class Plugin {
 public:
  virtual ~Plugin() = default;

  virtual std::string name() const = 0;
  /// Part of every action key of this plugin: bump it when the steps it
  /// declares change meaning.
  virtual int version() const = 0;
  virtual std::string summary() const = 0;
  virtual std::vector<OptionSpec> options() const = 0;

  /// Declares the target's steps. The last step in the list is the target's
  /// main step; steps of other targets named in `deps` are added by the core.
  virtual std::vector<Step> expand(const ExpandContext& context) const = 0;
};

/// The plugins kiln knows, by name.
class PluginRegistry {
 public:
  void add(std::unique_ptr<Plugin> plugin);
  const Plugin* find(const std::string& name) const;
  std::vector<std::string> names() const;
  std::vector<const Plugin*> all() const;

 private:
  std::map<std::string, std::unique_ptr<Plugin>> plugins_;
};

}  // namespace kiln
