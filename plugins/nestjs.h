#pragma once

#include "core/plugin.h"

namespace kiln {

/// NestJS services: one shared `npm ci` per lockfile, one shared build per
/// workspace library that services import, one build per service
/// (`npm run build` of the service, or `nest build APP` in a Nest CLI
/// monorepo), and one shared production-only install per lockfile.
class NestJsPlugin : public Plugin {
 public:
  std::string name() const override { return "nestjs"; }
  int version() const override { return 1; }
  std::string summary() const override;
  std::vector<OptionSpec> options() const override;
  std::vector<Step> expand(const ExpandContext& context) const override;
};

}  // namespace kiln
