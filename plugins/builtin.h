#pragma once

#include "core/plugin.h"

namespace kiln {

/// Adds every plugin that ships with kiln.
void registerBuiltinPlugins(PluginRegistry& registry);

}  // namespace kiln
