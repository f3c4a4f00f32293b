#pragma once

#include "core/plugin.h"

namespace kiln {

/// A SvelteKit app built as a standalone Node server with
/// @sveltejs/adapter-node, also when svelte.config.js imports
/// @sveltejs/adapter-auto: a Node module hook loaded through NODE_OPTIONS
/// resolves the adapter-auto import to adapter-node during the build, so no
/// project file is changed.
class SvelteKitPlugin : public Plugin {
 public:
  std::string name() const override { return "sveltekit"; }
  int version() const override { return 1; }
  std::string summary() const override;
  std::vector<OptionSpec> options() const override;
  std::vector<Step> expand(const ExpandContext& context) const override;
};

/// The NODE_OPTIONS value that makes every import of
/// @sveltejs/adapter-auto load @sveltejs/adapter-node instead. Needs Node
/// 20.6 or later (module.register).
std::string adapterNodeHookOption();

}  // namespace kiln
