#pragma once

#include <memory>
#include <string>

#include "cache/local_store.h"
#include "cache/remote/remote_cache.h"
#include "cache/remote/uploader.h"
#include "cache/tree_manifest.h"
#include "core/step.h"

namespace kiln {

/// A build's use of a remote cache: fetching results into the local store,
/// and uploading the results of steps that ran, beside the build.
class RemoteSteps {
 public:
  /// `uploader` is null in read-only mode.
  RemoteSteps(std::unique_ptr<RemoteCache> cache, bool readOnly);
  ~RemoteSteps();

  /// Downloads the result stored under `key` into the local store: the
  /// result record, the output manifest (checked against the step's
  /// declared outputs), the log and every output blob the local store
  /// lacks, each checked against its digest; then writes the local
  /// action-cache entry. Returns false on a miss, an untrusted entry or any
  /// error, and leaves the local action cache unchanged then.
  bool fetch(const Step& step, const std::string& key, LocalStore& store,
             std::string* reason);

  /// Queues the upload of a step's result: its output files (read from the
  /// workspace and checked against their digests as they are sent), the
  /// manifest, the log and the result record, then the entry.
  void upload(const Step& step, const std::string& key,
              const TreeManifest& manifest, const std::string& manifestText,
              const std::string& log, const std::string& recordText);

  /// Waits for queued uploads and returns a one-line summary, or an empty
  /// string in read-only mode.
  std::string finish();

  bool available() const { return cache_->available(); }

 private:
  std::unique_ptr<RemoteCache> cache_;
  std::unique_ptr<Uploader> uploader_;
};

}  // namespace kiln
