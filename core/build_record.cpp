#include "core/build_record.h"

#include <nlohmann/json.hpp>

#include "util/atomic_file.h"

namespace kiln {

namespace fs = std::filesystem;

BuildRecord::BuildRecord(fs::path stateDir) : stateDir_(std::move(stateDir)) {
  std::string text;
  if (!tryReadFile(stateDir_ / "record.json", &text)) {
    return;
  }
  try {
    nlohmann::json document = nlohmann::json::parse(text);
    if (document.value("version", 0) != 1) {
      return;
    }
    for (const auto& [id, item] : document.at("steps").items()) {
      StepRecord record;
      record.key = item.at("key");
      record.outputDigest = item.at("output_digest");
      record.signature = item.at("signature");
      record.durationMs = item.value("duration_ms", 0ull);
      record.outputBytes = item.value("output_bytes", 0ull);
      steps_[id] = record;
    }
  } catch (const nlohmann::json::exception&) {
    steps_.clear();  // a damaged record only costs a rebuild check
  }
}

std::optional<StepRecord> BuildRecord::find(const std::string& stepId) const {
  std::lock_guard lock(mutex_);
  auto found = steps_.find(stepId);
  if (found == steps_.end()) {
    return std::nullopt;
  }
  return found->second;
}

void BuildRecord::update(const std::string& stepId, const StepRecord& record) {
  std::lock_guard lock(mutex_);
  steps_[stepId] = record;
  dirty_ = true;
}

void BuildRecord::forget(const std::string& stepId) {
  std::lock_guard lock(mutex_);
  if (steps_.erase(stepId) > 0) {
    dirty_ = true;
  }
  std::error_code error;
  fs::remove(keyFile(stepId), error);
}

fs::path BuildRecord::keyFile(const std::string& stepId) const {
  std::string name;
  for (char c : stepId) {
    name += (c == '/' ? '+' : c);
  }
  return stateDir_ / "keys" / (name + ".json");
}

std::optional<KeyInputs> BuildRecord::keyInputs(
    const std::string& stepId) const {
  std::string text;
  KeyInputs inputs;
  if (!tryReadFile(keyFile(stepId), &text) ||
      !KeyInputs::fromJson(text, &inputs)) {
    return std::nullopt;
  }
  return inputs;
}

void BuildRecord::saveKeyInputs(const std::string& stepId,
                                const KeyInputs& inputs) {
  writeFileAtomic(keyFile(stepId), inputs.toJson());
}

void BuildRecord::save() {
  nlohmann::json steps = nlohmann::json::object();
  {
    std::lock_guard lock(mutex_);
    if (!dirty_) {
      return;
    }
    for (const auto& [id, record] : steps_) {
      steps[id] = {{"key", record.key},
                   {"output_digest", record.outputDigest},
                   {"signature", record.signature},
                   {"duration_ms", record.durationMs},
                   {"output_bytes", record.outputBytes}};
    }
    dirty_ = false;
  }
  nlohmann::json document = {{"version", 1}, {"steps", steps}};
  writeFileAtomic(stateDir_ / "record.json", document.dump(1) + "\n");
}

}  // namespace kiln
