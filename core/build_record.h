#pragma once

#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "core/action_key.h"

namespace kiln {

/// What the last build left for one step.
struct StepRecord {
  std::string key;           // action key, hex
  std::string outputDigest;  // digest of the output manifest, hex
  std::string signature;     // stat signature of the outputs, hex
  std::uint64_t durationMs = 0;
  std::uint64_t outputBytes = 0;
};

/// The record of the last build in a workspace (STATE_DIR/record.json), and
/// the inputs of each step's last key (STATE_DIR/keys/STEP.json) for
/// `kiln why`. Thread-safe.
class BuildRecord {
 public:
  explicit BuildRecord(std::filesystem::path stateDir);

  std::optional<StepRecord> find(const std::string& stepId) const;
  void update(const std::string& stepId, const StepRecord& record);
  void forget(const std::string& stepId);

  /// The key inputs recorded for a step, if any.
  std::optional<KeyInputs> keyInputs(const std::string& stepId) const;
  void saveKeyInputs(const std::string& stepId, const KeyInputs& inputs);

  /// Writes record.json if anything changed.
  void save();

 private:
  std::filesystem::path keyFile(const std::string& stepId) const;

  std::filesystem::path stateDir_;
  mutable std::mutex mutex_;
  std::map<std::string, StepRecord> steps_;
  bool dirty_ = false;
};

}  // namespace kiln
