#include "plugins/builtin.h"

#include <memory>

#include "plugins/astro_nginx.h"
#include "plugins/command.h"
#include "plugins/mobile.h"
#include "plugins/nestjs.h"
#include "plugins/rust.h"
#include "plugins/sveltekit.h"

namespace kiln {

void registerBuiltinPlugins(PluginRegistry& registry) {
  registry.add(std::make_unique<CommandPlugin>());
  registry.add(std::make_unique<NestJsPlugin>());
  registry.add(std::make_unique<RustPlugin>());
  registry.add(std::make_unique<SvelteKitPlugin>());
  registry.add(std::make_unique<AstroNginxPlugin>());
  registry.add(std::make_unique<MobilePlugin>());
}

}  // namespace kiln
