#pragma once

#include "core/plugin.h"

namespace kiln {

/// A static Astro site served by nginx: `astro build` into dist/ (telemetry
/// off) and a generated nginx.conf written beside it, as separate outputs
/// for the image.
class AstroNginxPlugin : public Plugin {
 public:
  std::string name() const override { return "astro-nginx"; }
  int version() const override { return 1; }
  std::string summary() const override;
  std::vector<OptionSpec> options() const override;
  std::vector<Step> expand(const ExpandContext& context) const override;
};

/// Path of the generated nginx configuration, relative to the target
/// directory.
extern const char* const kAstroNginxConfigPath;

}  // namespace kiln
