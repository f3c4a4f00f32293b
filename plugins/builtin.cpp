#include "plugins/builtin.h"

#include <memory>

#include "plugins/command.h"

namespace kiln {

void registerBuiltinPlugins(PluginRegistry& registry) {
  registry.add(std::make_unique<CommandPlugin>());
}

}  // namespace kiln
