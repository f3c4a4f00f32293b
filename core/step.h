#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/image_spec.h"

namespace kiln {

/// The built-in operations a step can perform. Plugins declare steps of
/// these kinds; only the core executes them.
enum class StepKind {
  kCommand,    // run argv as a process
  kWriteFile,  // write `content` to the single output path
  kImage,      // assemble the OCI image `image` into the output layout
};

/// One node of the build graph: a command or built-in operation with
/// declared inputs, outputs, environment and dependencies.
struct Step {
  /// Unique in the graph, such as "auth" or "federation:npm-ci".
  std::string id;
  /// The target this step belongs to; a step shared by several targets
  /// (an install per lockfile) names the first.
  std::string target;
  /// Every target that declared this step.
  std::vector<std::string> targets;
  /// A short phrase for progress lines: "build auth".
  std::string description;
  StepKind kind = StepKind::kCommand;

  std::string repo;                // repository name
  std::filesystem::path repoRoot;  // absolute checkout directory
  std::string workingDir;          // relative to repoRoot, "" for root

  std::vector<std::string> argv;           // kCommand
  std::string content;                     // kWriteFile
  unsigned fileMode = 0644;                // kWriteFile
  std::shared_ptr<const ImageSpec> image;  // kImage

  /// Variables set for the step; part of the action key.
  std::map<std::string, std::string> env;
  /// Names of variables passed through from kiln's environment, such as a
  /// registry token; visible to the step, kept out of the key and masked in
  /// logs.
  std::vector<std::string> passEnv;
  /// Names of variables passed through from kiln's environment that are
  /// not secret (tool locations such as ANDROID_HOME): visible to the step,
  /// kept out of the key like pass_env, but not masked in logs.
  std::vector<std::string> passEnvPlain;

  /// Input globs relative to repoRoot; "!" excludes.
  std::vector<std::string> inputs;
  /// Whether `inputs` is a plugin's catch-all default ("everything under
  /// dir"), which must then leave out the other steps' outputs too.
  bool defaultInputs = false;
  /// Output paths (files or directories) relative to repoRoot.
  std::vector<std::string> outputs;
  /// Step ids this step needs first.
  std::vector<std::string> deps;
  /// Programs whose identity (version) is part of the action key.
  std::vector<std::string> tools;

  /// A step that several targets may declare (an install per lockfile). It
  /// does not inherit the dependencies of the targets that declare it.
  bool shared = false;

  std::string plugin;
  int pluginVersion = 1;
  bool cacheable = true;
  std::optional<std::chrono::milliseconds> timeout;

  /// When set, the step does not run and ends as "skipped" with this reason
  /// (a toolchain that is absent on this machine).
  std::string skipReason;

  /// Absolute working directory.
  std::filesystem::path absoluteWorkingDir() const {
    return workingDir.empty() ? repoRoot : repoRoot / workingDir;
  }
};

/// A file name for a step's log: the id with '/' replaced by '+'.
std::string logFileName(const std::string& stepId);

/// Returns true if two declarations of one shared step agree in everything
/// that affects the result (the owning targets aside).
bool sameDefinition(const Step& a, const Step& b);

}  // namespace kiln
