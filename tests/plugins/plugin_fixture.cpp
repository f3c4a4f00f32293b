#include "tests/plugins/plugin_fixture.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <catch2/catch.hpp>

#include "plugins/builtin.h"

namespace kiln::test {

void PluginFixture::write(const std::string& relative,
                          const std::string& text) const {
  writeFile(dir_.path() / relative, text);
}

TargetSpec PluginFixture::target(const std::string& name,
                                 const std::string& plugin,
                                 const std::string& dir,
                                 const std::string& options) const {
  TargetSpec target;
  target.name = name;
  target.plugin = plugin;
  target.repo = "repo";
  target.dir = dir;
  target.where = {"kiln.yaml", 1, 1};
  YAML::Node map = YAML::Load(options);
  for (auto it = map.begin(); it != map.end(); ++it) {
    target.options[it->first.Scalar()] = YAML::Clone(it->second);
    target.keyLocations[it->first.Scalar()] = {"kiln.yaml", 2, 3};
  }
  return target;
}

std::vector<Step> PluginFixture::expand(const TargetSpec& target) const {
  PluginRegistry registry;
  registerBuiltinPlugins(registry);
  const Plugin* plugin = registry.find(target.plugin);
  REQUIRE(plugin != nullptr);
  ExpandContext context(target, dir_.path());
  return plugin->expand(context);
}

const Step& findStep(const std::vector<Step>& steps, const std::string& id) {
  auto found = std::find_if(steps.begin(), steps.end(),
                            [&](const Step& step) { return step.id == id; });
  INFO("step " << id);
  REQUIRE(found != steps.end());
  return *found;
}

std::vector<std::string> stepIds(const std::vector<Step>& steps) {
  std::vector<std::string> ids;
  for (const auto& step : steps) {
    ids.push_back(step.id);
  }
  return ids;
}

bool contains(const std::vector<std::string>& list, const std::string& item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

}  // namespace kiln::test
