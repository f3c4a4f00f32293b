#pragma once

namespace kiln {

/// kiln's exit statuses, documented in docs/cli.md.
enum ExitCode : int {
  kExitSuccess = 0,
  kExitStepFailed = 1,     // a step failed (or an internal error)
  kExitUsage = 2,          // a usage or pipeline error; nothing ran
  kExitInterrupted = 130,  // SIGINT or SIGTERM stopped the build
};

}  // namespace kiln
