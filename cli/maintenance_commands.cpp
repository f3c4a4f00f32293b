#include "cli/maintenance_commands.h"

#include <cstdio>

#include "cache/local_store.h"
#include "cli/exit_codes.h"
#include "core/build_record.h"
#include "core/executor.h"
#include "core/outputs.h"
#include "core/targets.h"
#include "core/workspace_lock.h"
#include "util/error.h"
#include "util/strings.h"

namespace kiln {

namespace fs = std::filesystem;

int runClean(Session& session, const std::vector<std::string>& selectors) {
  const fs::path& stateDir = session.workspace.stateDir;
  WorkspaceLock lock(stateDir, [](const std::string& text) {
    std::fprintf(stderr, "%s\n", text.c_str());
  });
  std::vector<std::string> targets = selectTargets(session.targets, selectors);
  const BuildGraph& graph = session.graph;
  BuildRecord record(stateDir);
  std::size_t removed = 0;
  for (std::size_t i = 0; i < graph.size(); ++i) {
    const Step& step = graph.step(i);
    bool allSelected = true;
    for (const auto& owner : step.targets) {
      if (std::find(targets.begin(), targets.end(), owner) == targets.end()) {
        allSelected = false;
      }
    }
    if (!allSelected) {
      continue;
    }
    removeOutputs(step.repoRoot, step.outputs);
    record.forget(step.id);
    std::error_code error;
    fs::remove(session.workspace.logDir() / logFileName(step.id), error);
    ++removed;
  }
  record.save();
  if (selectors.empty()) {
    std::error_code error;
    for (const char* name :
         {"logs", "keys", "record.json", "stat-cache", "tools.json",
          "images"}) {
      fs::remove_all(stateDir / name, error);
    }
  }
  std::printf("removed the outputs of %zu steps\n", removed);
  return kExitSuccess;
}

int runCacheStats() {
  LocalStore store(LocalStore::defaultDir());
  StoreStats stats = store.stats();
  std::uint64_t lookups = stats.hits + stats.misses;
  std::printf("cache directory  %s\n", store.root().c_str());
  std::printf("action entries   %llu\n",
              static_cast<unsigned long long>(stats.actionEntries));
  std::printf("blobs            %llu (%s compressed)\n",
              static_cast<unsigned long long>(stats.blobs),
              formatBytes(stats.blobBytes).c_str());
  std::printf("hits             %llu\n",
              static_cast<unsigned long long>(stats.hits));
  std::printf("misses           %llu\n",
              static_cast<unsigned long long>(stats.misses));
  std::printf("stores           %llu\n",
              static_cast<unsigned long long>(stats.stores));
  if (lookups > 0) {
    std::printf(
        "hit rate         %.1f%%\n",
        100.0 * static_cast<double>(stats.hits) / static_cast<double>(lookups));
  }
  return kExitSuccess;
}

int runCacheVerify() {
  LocalStore store(LocalStore::defaultDir());
  VerifyReport report = store.verify();
  for (const auto& problem : report.problems) {
    std::printf("%s\n", problem.c_str());
  }
  std::printf("checked %llu blobs and %llu entries in %s: %zu problem%s\n",
              static_cast<unsigned long long>(report.blobsChecked),
              static_cast<unsigned long long>(report.entriesChecked),
              store.root().c_str(), report.problems.size(),
              report.problems.size() == 1 ? "" : "s");
  return report.problems.empty() ? kExitSuccess : kExitStepFailed;
}

int runCacheGc(const std::optional<std::string>& maxSize,
               const std::optional<std::string>& maxAge) {
  std::optional<std::uint64_t> size;
  std::optional<std::chrono::seconds> age;
  if (maxSize) {
    size = parseSize(*maxSize);
    if (!size) {
      throw UsageError("invalid --max-size '" + *maxSize + "'",
                       "write a size such as 500M or 10G");
    }
  }
  if (maxAge) {
    auto duration = parseDuration(*maxAge);
    if (!duration) {
      throw UsageError("invalid --max-age '" + *maxAge + "'",
                       "write an age such as 12h or 30d");
    }
    age = std::chrono::duration_cast<std::chrono::seconds>(*duration);
  }
  if (!size && !age) {
    throw UsageError("kiln cache gc needs --max-size or --max-age",
                     "for example: kiln cache gc --max-size 10G");
  }
  LocalStore store(LocalStore::defaultDir());
  GcReport report = store.gc(size, age);
  std::printf("removed %llu entries and %llu blobs (%s); %s left\n",
              static_cast<unsigned long long>(report.entriesRemoved),
              static_cast<unsigned long long>(report.blobsRemoved),
              formatBytes(report.bytesFreed).c_str(),
              formatBytes(report.bytesLeft).c_str());
  return kExitSuccess;
}

}  // namespace kiln
