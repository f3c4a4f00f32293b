#pragma once

#include <atomic>
#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "cache/local_store.h"
#include "core/action_key.h"
#include "core/build_record.h"
#include "core/image_step.h"
#include "core/remote_steps.h"
#include "core/stat_cache.h"
#include "core/step.h"
#include "core/tool_identity.h"

namespace kiln {

/// How a build uses the cache.
struct CachePolicy {
  bool read = true;   // look for action-cache hits
  bool write = true;  // store results of steps that ran
};

/// Counts of one build's cache traffic.
struct CacheCounts {
  std::atomic<std::uint64_t> hits{0};
  std::atomic<std::uint64_t> remoteHits{0};  // included in hits
  std::atomic<std::uint64_t> misses{0};
  std::atomic<std::uint64_t> stores{0};
};

/// The state one build shares across its steps: the local store, the
/// workspace's stat cache, tool identities and build record.
class BuildContext {
 public:
  /// `store` may be null when the cache is off.
  BuildContext(const std::filesystem::path& stateDir,
               std::unique_ptr<LocalStore> store, CachePolicy policy);

  /// Computes what goes into a step's action key. `depDigests` maps each
  /// dependency's step id to its output digest.
  KeyInputs keyInputs(const Step& step,
                      const std::map<std::string, std::string>& depDigests);

  LocalStore* store() { return store_.get(); }
  /// The remote cache, or null when none is configured.
  RemoteSteps* remote() { return remote_.get(); }
  void setRemote(std::unique_ptr<RemoteSteps> remote) {
    remote_ = std::move(remote);
  }
  /// The image builder, or null when no output layout is configured.
  ImageBuilder* images() { return images_.get(); }
  void setImages(std::unique_ptr<ImageBuilder> images) {
    images_ = std::move(images);
  }
  const CachePolicy& policy() const { return policy_; }
  StatCache& statCache() { return statCache_; }
  BuildRecord& record() { return record_; }
  CacheCounts& counts() { return counts_; }
  const std::map<std::string, std::string>& parentEnv() const {
    return parentEnv_;
  }

  /// Writes the stat cache, tool identities, build record and store counts.
  void save();

 private:
  std::unique_ptr<LocalStore> store_;
  std::unique_ptr<RemoteSteps> remote_;
  std::unique_ptr<ImageBuilder> images_;
  CachePolicy policy_;
  StatCache statCache_;
  ToolIdentities tools_;
  BuildRecord record_;
  CacheCounts counts_;
  std::map<std::string, std::string> parentEnv_;
  std::string platform_;
};

}  // namespace kiln
