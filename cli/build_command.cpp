#include "cli/build_command.h"

#include <functional>
#include <nlohmann/json.hpp>
#include <thread>

#include "cache/remote/http_remote_cache.h"
#include "cli/exit_codes.h"
#include "core/affected.h"
#include "core/executor.h"
#include "core/plan.h"
#include "core/report_files.h"
#include "core/targets.h"
#include "core/workspace_lock.h"
#include "util/atomic_file.h"
#include "util/strings.h"

namespace kiln {

void BuildControl::interrupt() {
  interrupted = true;
  if (Scheduler* current = scheduler.load()) {
    current->cancel();
  }
  groups.terminateAll(killGrace);
}

namespace {

int defaultJobs() {
  unsigned cores = std::thread::hardware_concurrency();
  return cores == 0 ? 1 : static_cast<int>(cores);
}

// kiln's state directory must not show up in `git status` of a repository
// that contains it.
void prepareStateDir(const std::filesystem::path& stateDir) {
  std::filesystem::create_directories(stateDir);
  std::filesystem::path ignore = stateDir / ".gitignore";
  if (!std::filesystem::exists(ignore)) {
    writeFileAtomic(ignore, "*\n");
  }
}

std::unique_ptr<BuildContext> makeContext(const Session& session,
                                          bool noCache) {
  std::unique_ptr<LocalStore> store;
  if (!noCache) {
    store = std::make_unique<LocalStore>(LocalStore::defaultDir());
  }
  return std::make_unique<BuildContext>(session.workspace.stateDir,
                                        std::move(store), CachePolicy{});
}

std::string fromEnvironment(const std::string& value, const char* variable) {
  if (!value.empty()) {
    return value;
  }
  const char* set = std::getenv(variable);
  return set != nullptr ? set : "";
}

// Connects the remote cache named by the options or the environment, if
// any. Warnings (the server went away) go to `warn`, once.
std::unique_ptr<RemoteSteps> makeRemote(
    const BuildOptions& options, std::function<void(const std::string&)> warn) {
  std::string url = fromEnvironment(options.remoteCache, "KILN_REMOTE_CACHE");
  if (url.empty() || options.noCache) {
    return nullptr;
  }
  RemoteCacheOptions remote;
  remote.url = url;
  remote.readOnly = options.remoteReadOnly;
  std::string signKey =
      fromEnvironment(options.signKey.string(), "KILN_REMOTE_CACHE_SIGN_KEY");
  std::string verifyKey = fromEnvironment(options.verifyKey.string(),
                                          "KILN_REMOTE_CACHE_VERIFY_KEY");
  if (!signKey.empty() && !remote.readOnly) {
    remote.signingKey =
        std::make_shared<SigningKey>(SigningKey::loadPem(signKey));
  }
  if (!verifyKey.empty()) {
    remote.verifyingKey =
        std::make_shared<VerifyingKey>(VerifyingKey::loadPem(verifyKey));
  }
  remote.onUnavailable = [warn](const std::string& reason) {
    warn("remote cache unavailable (" + reason +
         "); going on with the local cache");
  };
  return std::make_unique<RemoteSteps>(
      std::make_unique<HttpRemoteCache>(std::move(remote)),
      options.remoteReadOnly);
}

void printPlain(const BuildGraph& graph, const std::vector<bool>& selected) {
  for (std::size_t index : graph.topologicalOrder()) {
    if (!selected[index]) {
      continue;
    }
    const Step& step = graph.step(index);
    std::string what = step.kind == StepKind::kWriteFile
                           ? "write " + join(step.outputs, " ")
                           : join(step.argv, " ");
    std::printf("%s: %s\n", step.id.c_str(), what.c_str());
  }
}

void printPlanJson(const BuildGraph& graph, const std::vector<bool>& selected,
                   const std::vector<PlannedStep>& plan) {
  nlohmann::json steps = nlohmann::json::array();
  for (std::size_t index : graph.topologicalOrder()) {
    if (!selected[index]) {
      continue;
    }
    const PlannedStep& planned = plan[index];
    steps.push_back(
        {{"id", graph.step(index).id},
         {"targets", graph.step(index).targets},
         {"key", planned.key},
         {"action", plannedActionName(planned.action)},
         {"hit", planned.action == PlannedStep::Action::kHit ||
                     planned.action == PlannedStep::Action::kUpToDate},
         {"reasons", planned.reasons}});
  }
  std::printf("%s\n", nlohmann::json{{"steps", steps}}.dump(2).c_str());
}

std::vector<double> lastDurations(const BuildGraph& graph,
                                  BuildRecord& record) {
  std::vector<double> weights(graph.size(), 1.0);
  for (std::size_t i = 0; i < graph.size(); ++i) {
    if (auto prior = record.find(graph.step(i).id)) {
      weights[i] =
          std::max<double>(1.0, static_cast<double>(prior->durationMs));
    }
  }
  return weights;
}

}  // namespace

std::map<std::string, std::string> parseSince(
    const std::vector<std::string>& values, bool given) {
  std::map<std::string, std::string> refs;
  if (!given) {
    return refs;
  }
  refs["*"] = "origin/main";
  for (const auto& value : values) {
    if (value.empty()) {
      continue;  // a bare --since keeps the default
    }
    std::size_t equals = value.find('=');
    if (equals == std::string::npos) {
      refs["*"] = value;
    } else {
      refs[value.substr(0, equals)] = value.substr(equals + 1);
    }
  }
  return refs;
}

std::vector<std::string> chooseTargets(
    const Session& session, const std::vector<std::string>& selectors,
    const std::map<std::string, std::string>& since, const std::string& shard,
    std::vector<std::string>* warnings) {
  std::vector<std::string> targets = selectTargets(session.targets, selectors);
  if (!since.empty()) {
    for (const auto& [repo, ref] : since) {
      if (repo != "*" && session.workspace.repos.count(repo) == 0) {
        throw UsageError("--since names unknown repository '" + repo + "'",
                         "write --since REPO=REF with a repository of the "
                         "pipeline, or --since REF for all");
      }
    }
    std::vector<std::string> affected = affectedTargets(
        session.targets, session.graph, session.workspace, since, warnings);
    std::vector<std::string> kept;
    for (const auto& name : targets) {
      if (std::find(affected.begin(), affected.end(), name) != affected.end()) {
        kept.push_back(name);
      }
    }
    targets = std::move(kept);
  }
  if (!shard.empty()) {
    auto [index, count] = parseShard(shard);
    targets = shardTargets(std::move(targets), index, count);
  }
  return targets;
}

int runBuild(Session& session, const BuildOptions& options,
             BuildControl& control, OutputMode mode) {
  std::vector<std::string> warnings = session.workspace.warnings;
  std::vector<std::string> targets = chooseTargets(
      session, options.targets, options.since, options.shard, &warnings);
  const BuildGraph& graph = session.graph;
  std::vector<bool> selected = graph.closure(targets);
  if (options.dryRun && !options.json) {
    printPlain(graph, selected);
    return kExitSuccess;
  }
  prepareStateDir(session.workspace.stateDir);
  if (options.dryRun) {
    std::unique_ptr<BuildContext> context =
        makeContext(session, options.noCache);
    printPlanJson(graph, selected, planBuild(graph, selected, *context));
    return kExitSuccess;
  }

  Reporter reporter(graph, mode, stdout, session.workspace.logDir());
  reporter.setExplain(options.explain);
  for (const auto& warning : warnings) {
    reporter.warning(warning);
  }
  if (targets.empty()) {
    reporter.message("nothing to build: no target selected" +
                     std::string(options.since.empty() ? "" : " is affected"));
  }
  WorkspaceLock lock(session.workspace.stateDir,
                     [&](const std::string& text) { reporter.message(text); });
  std::unique_ptr<BuildContext> context = makeContext(session, options.noCache);
  context->setRemote(makeRemote(
      options, [&](const std::string& text) { reporter.warning(text); }));
  std::unique_ptr<BaseImages> bases = openBaseImages(session);
  context->setImages(std::make_unique<ImageBuilder>(
      imageOutputDir(session, options.images) / "layout", sourceDateEpoch(),
      *bases, context->store(), context->statCache(), context->record()));

  control.killGrace = options.killGrace;
  ExecutorOptions executorOptions;
  executorOptions.logDir = session.workspace.logDir();
  executorOptions.killGrace = options.killGrace;
  executorOptions.explain = options.explain;
  if (!options.force.empty()) {
    for (const auto& target : selectTargets(session.targets, options.force)) {
      for (std::size_t index : graph.stepsOfTarget(target)) {
        executorOptions.forced.insert(graph.step(index).id);
      }
    }
  }
  Executor executor(graph, executorOptions, *context, control.groups,
                    control.interrupted);

  SchedulerOptions schedulerOptions;
  schedulerOptions.jobs = options.jobs > 0 ? options.jobs : defaultJobs();
  schedulerOptions.keepGoing = options.keepGoing;
  Scheduler scheduler(
      graph, selected,
      graph.criticalPath(lastDurations(graph, context->record())), executor,
      reporter, schedulerOptions);
  control.scheduler = &scheduler;
  control.building = true;
  if (control.interrupted) {
    scheduler.cancel();
  }
  scheduler.run();
  control.scheduler = nullptr;
  control.building = false;
  context->save();
  bases->save();
  reporter.finish();
  for (const auto& file : writeImageFiles(
           session, selected, scheduler.outcomes(), options.images)) {
    reporter.message("wrote " + file.string());
  }
  if (RemoteSteps* remote = context->remote()) {
    std::string uploads = remote->finish();
    reporter.message(
        "remote cache: " + std::to_string(context->counts().remoteHits.load()) +
        " hits" + (uploads.empty() ? "" : "; " + uploads));
  }

  reporter.printSummary(scheduler.outcomes(), targets);
  BuildStats stats = scheduler.stats();
  if (!options.summaryJson.empty()) {
    writeSummaryJson(options.summaryJson, graph, selected, scheduler.outcomes(),
                     stats);
  }
  if (!options.profile.empty()) {
    writeChromeTrace(options.profile, graph, selected, scheduler.outcomes());
  }
  if (!options.junit.empty()) {
    writeJunit(options.junit, graph, selected, scheduler.outcomes(), stats);
  }
  if (options.stats) {
    char line[256];
    std::snprintf(line, sizeof line,
                  "stats: wall %s, critical path %s, step time %s on %d "
                  "jobs, efficiency %.2f",
                  formatDuration(stats.wall).c_str(),
                  formatDuration(stats.criticalPath).c_str(),
                  formatDuration(stats.totalStepTime).c_str(), stats.jobs,
                  stats.efficiency());
    reporter.message(line);
  }

  if (control.interrupted) {
    reporter.message("kiln: interrupted");
    return kExitInterrupted;
  }
  for (std::size_t i = 0; i < graph.size(); ++i) {
    StepStatus status = scheduler.outcomes()[i].status;
    if (selected[i] &&
        (status == StepStatus::kFailed || status == StepStatus::kDepFailed ||
         status == StepStatus::kNotRun)) {
      reporter.message("kiln: build failed");
      return kExitStepFailed;
    }
  }
  return kExitSuccess;
}

int runWhy(Session& session, const std::vector<std::string>& selectors) {
  std::vector<std::string> targets = selectTargets(session.targets, selectors);
  const BuildGraph& graph = session.graph;
  std::vector<bool> selected = graph.closure(targets);
  prepareStateDir(session.workspace.stateDir);
  std::unique_ptr<BuildContext> context = makeContext(session, false);
  std::vector<PlannedStep> plan = planBuild(graph, selected, *context);
  for (std::size_t index : graph.topologicalOrder()) {
    if (!selected[index]) {
      continue;
    }
    const PlannedStep& planned = plan[index];
    std::string id = graph.step(index).id;
    switch (planned.action) {
      case PlannedStep::Action::kUpToDate:
        std::printf("%s: up to date\n", id.c_str());
        break;
      case PlannedStep::Action::kHit:
        std::printf("%s: will be restored from the cache\n", id.c_str());
        break;
      default:
        std::printf("%s: will %s\n", id.c_str(),
                    planned.action == PlannedStep::Action::kSkipped
                        ? "be skipped"
                        : "run");
        for (const auto& reason : planned.reasons) {
          std::printf("  %s\n", reason.c_str());
        }
        break;
    }
  }
  return kExitSuccess;
}

}  // namespace kiln
