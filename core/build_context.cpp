#include "core/build_context.h"

#include "core/environment.h"
#include "util/strings.h"

namespace kiln {

namespace fs = std::filesystem;

BuildContext::BuildContext(const fs::path& stateDir,
                           std::unique_ptr<LocalStore> store,
                           CachePolicy policy)
    : store_(std::move(store)),
      policy_(policy),
      statCache_(stateDir / "stat-cache"),
      tools_(stateDir / "tools.json"),
      record_(stateDir),
      parentEnv_(currentEnvironment()),
      platform_(currentPlatform()) {
  if (!store_) {
    policy_ = {false, false};
  }
}

KeyInputs BuildContext::keyInputs(
    const Step& step, const std::map<std::string, std::string>& depDigests) {
  KeyInputs inputs;
  inputs.plugin = step.plugin;
  inputs.pluginVersion = step.pluginVersion;
  inputs.platform = platform_;
  inputs.workingDir = step.workingDir;
  inputs.env = step.env;
  inputs.deps = depDigests;
  inputs.outputs = step.outputs;
  if (step.kind == StepKind::kWriteFile) {
    inputs.kind = "write-file";
    inputs.content =
        sha256(step.content).hex() + " " + std::to_string(step.fileMode);
    return inputs;
  }
  inputs.kind = "command";
  inputs.argv = step.argv;
  std::map<std::string, std::string> env = stepEnvironment(step, parentEnv_);
  std::string searchPath = env.count("PATH") ? env["PATH"] : "";
  for (const auto& tool : step.tools) {
    inputs.tools[tool] =
        tools_.identify(tool, searchPath, step.absoluteWorkingDir());
  }
  inputs.inputs = fingerprintInputs(step.repoRoot, step.inputs, statCache_);
  return inputs;
}

void BuildContext::save() {
  statCache_.save();
  tools_.save();
  record_.save();
  if (store_) {
    store_->addCounts(counts_.hits, counts_.misses, counts_.stores);
  }
}

}  // namespace kiln
