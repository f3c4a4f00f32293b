#pragma once

#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "cli/image_files.h"
#include "cli/session.h"
#include "core/process.h"
#include "core/reporter.h"
#include "core/scheduler.h"

namespace kiln {

struct BuildOptions {
  std::vector<std::string> targets;  // selectors; empty means all
  int jobs = 0;                      // 0: the number of cores
  bool keepGoing = false;
  bool dryRun = false;
  bool json = false;  // with dryRun: print the plan as JSON
  bool stats = false;
  bool noCache = false;            // neither read nor write the cache
  bool explain = false;            // say why each step ran
  std::vector<std::string> force;  // targets to rerun
  std::chrono::milliseconds killGrace{5000};
  /// --since: repository name (or "*" for all) -> ref; empty: no filter.
  std::map<std::string, std::string> since;
  std::string shard;        // "I/N", or empty
  std::string remoteCache;  // URL; empty: KILN_REMOTE_CACHE, else none
  bool remoteReadOnly = false;
  std::filesystem::path signKey;    // private key that signs uploads
  std::filesystem::path verifyKey;  // public key that downloads must match
  ImageOutputOptions images;
  std::filesystem::path summaryJson;
  std::filesystem::path profile;
  std::filesystem::path junit;
};

/// Parses --since values: "REF" applies to every repository, "REPO=REF" to
/// one; no value means origin/main everywhere.
std::map<std::string, std::string> parseSince(
    const std::vector<std::string>& values, bool given);

/// The targets a build works on: the selectors' targets, then those
/// affected since the --since refs, then this --shard's part. Warnings
/// (a missing ref) are appended to `warnings`.
std::vector<std::string> chooseTargets(
    const Session& session, const std::vector<std::string>& selectors,
    const std::map<std::string, std::string>& since, const std::string& shard,
    std::vector<std::string>* warnings);

/// State shared with the interrupt handler: it cancels the running build and
/// stops the steps' process groups.
struct BuildControl {
  std::atomic<bool> interrupted{false};
  std::atomic<Scheduler*> scheduler{nullptr};
  std::atomic<bool> building{false};
  std::chrono::milliseconds killGrace{5000};
  ProcessGroups groups;

  /// Called from the interrupt handler's thread.
  void interrupt();
};

/// Runs `kiln build`; returns the exit status.
int runBuild(Session& session, const BuildOptions& options,
             BuildControl& control, OutputMode mode);

/// Runs `kiln why TARGET...`: prints, for each step that would run, what
/// changed since the last build.
int runWhy(Session& session, const std::vector<std::string>& targets);

}  // namespace kiln
