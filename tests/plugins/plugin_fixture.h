#pragma once

// A repository in a temporary directory and a target of it, for expanding
// one plugin without the pipeline loader.

#include <filesystem>
#include <string>
#include <vector>

#include "core/plugin.h"
#include "tests/common/test_support.h"

namespace kiln::test {

/// A repository root in a temporary directory, with helpers to write its
/// files and expand targets of it.
class PluginFixture {
 public:
  /// Writes `text` to `relative` (under the repository root), creating
  /// directories.
  void write(const std::string& relative, const std::string& text) const;

  /// A target of repository "repo". `options` is a YAML flow map of plugin
  /// options such as "{ port: 8080 }".
  TargetSpec target(const std::string& name, const std::string& plugin,
                    const std::string& dir,
                    const std::string& options = "{}") const;

  /// Expands the target with the plugin of that name.
  std::vector<Step> expand(const TargetSpec& target) const;

  const std::filesystem::path& root() const { return dir_.path(); }

 private:
  TempDir dir_;
};

/// The step with this id; fails the test when there is none.
const Step& findStep(const std::vector<Step>& steps, const std::string& id);

/// The ids of the steps, in order.
std::vector<std::string> stepIds(const std::vector<Step>& steps);

/// Returns true if `list` contains `item`.
bool contains(const std::vector<std::string>& list, const std::string& item);

}  // namespace kiln::test
