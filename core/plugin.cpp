#include "core/plugin.h"

namespace kiln {

std::string optionTypeName(OptionType type) {
  switch (type) {
    case OptionType::kString:
      return "string";
    case OptionType::kStringList:
      return "list of strings";
    case OptionType::kStringMap:
      return "map of strings";
    case OptionType::kBool:
      return "boolean";
    case OptionType::kInteger:
      return "integer";
    case OptionType::kMap:
      return "map";
  }
  return "value";
}

std::filesystem::path ExpandContext::targetDir() const {
  return target_.dir.empty() ? repoRoot_ : repoRoot_ / target_.dir;
}

bool ExpandContext::has(const std::string& option) const {
  return target_.options.count(option) > 0;
}

std::string ExpandContext::string(const std::string& option,
                                  const std::string& fallback) const {
  auto found = target_.options.find(option);
  if (found == target_.options.end()) {
    return fallback;
  }
  return found->second.as<std::string>();
}

bool ExpandContext::isScalar(const std::string& option) const {
  auto found = target_.options.find(option);
  return found != target_.options.end() && found->second.IsScalar();
}

std::vector<std::string> ExpandContext::stringList(
    const std::string& option) const {
  auto found = target_.options.find(option);
  if (found == target_.options.end()) {
    return {};
  }
  if (found->second.IsScalar()) {
    return {found->second.as<std::string>()};
  }
  return found->second.as<std::vector<std::string>>();
}

std::map<std::string, std::string> ExpandContext::stringMap(
    const std::string& option) const {
  auto found = target_.options.find(option);
  if (found == target_.options.end()) {
    return {};
  }
  return found->second.as<std::map<std::string, std::string>>();
}

bool ExpandContext::boolean(const std::string& option, bool fallback) const {
  auto found = target_.options.find(option);
  return found == target_.options.end() ? fallback : found->second.as<bool>();
}

long long ExpandContext::integer(const std::string& option,
                                 long long fallback) const {
  auto found = target_.options.find(option);
  return found == target_.options.end() ? fallback
                                        : found->second.as<long long>();
}

YAML::Node ExpandContext::node(const std::string& option) const {
  auto found = target_.options.find(option);
  return found == target_.options.end() ? YAML::Node() : found->second;
}

SourceLocation ExpandContext::locationIn(const std::string& option,
                                         const std::string& key) const {
  SourceLocation where = target_.locationOf(option);
  YAML::Node map = node(option);
  if (map && map.IsMap()) {
    for (auto it = map.begin(); it != map.end(); ++it) {
      if (it->first.IsScalar() && it->first.Scalar() == key &&
          !it->second.Mark().is_null()) {
        where.line = it->second.Mark().line + 1;
        where.column = it->second.Mark().column + 1;
      }
    }
  }
  return where;
}

ConfigError ExpandContext::optionError(const std::string& option,
                                       const std::string& message,
                                       const std::string& hint) const {
  return ConfigError(target_.locationOf(option), message, hint);
}

Step ExpandContext::makeStep(const std::string& id,
                             const std::string& description) const {
  Step step;
  step.id = id;
  step.target = target_.name;
  step.targets = {target_.name};
  step.description = description;
  step.repo = target_.repo;
  step.repoRoot = repoRoot_;
  step.workingDir = target_.dir;
  step.env = target_.env;
  step.passEnv = target_.passEnv;
  step.plugin = target_.plugin;
  step.cacheable = target_.cache.value_or(true);
  step.timeout = target_.timeout;
  return step;
}

void PluginRegistry::add(std::unique_ptr<Plugin> plugin) {
  std::string name = plugin->name();
  plugins_[name] = std::move(plugin);
}

const Plugin* PluginRegistry::find(const std::string& name) const {
  auto found = plugins_.find(name);
  return found == plugins_.end() ? nullptr : found->second.get();
}

std::vector<std::string> PluginRegistry::names() const {
  std::vector<std::string> names;
  for (const auto& [name, plugin] : plugins_) {
    names.push_back(name);
  }
  return names;
}

std::vector<const Plugin*> PluginRegistry::all() const {
  std::vector<const Plugin*> plugins;
  for (const auto& [name, plugin] : plugins_) {
    plugins.push_back(plugin.get());
  }
  return plugins;
}

}  // namespace kiln
