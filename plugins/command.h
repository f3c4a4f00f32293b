#pragma once

#include "core/plugin.h"

namespace kiln {

/// The generic plugin: one step that runs a command (`run:` as a shell
/// line, or `argv:`), with declared inputs, outputs and tools.
class CommandPlugin : public Plugin {
 public:
  std::string name() const override { return "command"; }
  int version() const override { return 1; }
  std::string summary() const override;
  std::vector<OptionSpec> options() const override;
  std::vector<Step> expand(const ExpandContext& context) const override;
};

/// Prefixes a path or glob relative to a target's directory so it becomes
/// relative to the repository root; keeps a leading "!".
std::string relativeToRepo(const std::string& dir, const std::string& path);

}  // namespace kiln
