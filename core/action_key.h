#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/fileset.h"
#include "util/sha256.h"

namespace kiln {

/// Everything that goes into a step's action key, kept in the workspace so
/// `kiln why` can say what changed. See docs/cache.md for the encoding.
struct KeyInputs {
  std::string plugin;
  int pluginVersion = 0;
  std::string kind;        // "command" or "write-file"
  std::string platform;    // operating system and CPU architecture
  std::string workingDir;  // relative to the repository root
  std::vector<std::string> argv;
  std::map<std::string, std::string> env;    // declared variables only
  std::map<std::string, std::string> tools;  // name -> identity
  std::vector<InputFile> inputs;             // sorted by path
  std::map<std::string, std::string> deps;   // step id -> output digest
  std::vector<std::string> outputs;          // declared output paths
  std::string content;  // write-file steps: digest of the content and mode

  /// SHA-256 of the canonical encoding: a version line, then each field as
  /// length-prefixed strings in a fixed order, maps sorted by name.
  Digest key() const;

  std::string toJson() const;
  static bool fromJson(const std::string& text, KeyInputs* inputs);
};

/// The operating system and CPU architecture, as in "linux x86_64".
std::string currentPlatform();

/// Sentences that say what differs between the inputs of the last recorded
/// key and the current ones: changed, added and removed input files, env
/// variables, tool identities, dependencies, the command.
std::vector<std::string> explainChanges(const KeyInputs& before,
                                        const KeyInputs& after);

}  // namespace kiln
