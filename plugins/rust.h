#pragma once

#include "core/plugin.h"

namespace kiln {

/// A Rust binary: `cargo build --release --locked --offline` of one binary
/// target, copied to `target/kiln/NAME` in the cargo workspace so that the
/// declared output is the binary alone.
class RustPlugin : public Plugin {
 public:
  std::string name() const override { return "rust"; }
  int version() const override { return 1; }
  std::string summary() const override;
  std::vector<OptionSpec> options() const override;
  std::vector<Step> expand(const ExpandContext& context) const override;
};

}  // namespace kiln
