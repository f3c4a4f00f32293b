#include "core/executor.h"

#include "core/environment.h"
#include "core/outputs.h"
#include "util/atomic_file.h"
#include "util/error.h"
#include "util/strings.h"

namespace kiln {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

std::chrono::milliseconds elapsedSince(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() -
                                                               start);
}

}  // namespace

Executor::Executor(const BuildGraph& graph, ExecutorOptions options,
                   BuildContext& context, ProcessGroups& groups,
                   const std::atomic<bool>& interrupted)
    : graph_(graph),
      options_(std::move(options)),
      context_(context),
      groups_(groups),
      interrupted_(interrupted) {
  fs::create_directories(options_.logDir);
}

fs::path Executor::logPath(const Step& step) const {
  return options_.logDir / logFileName(step.id);
}

StepOutcome Executor::execute(std::size_t index,
                              const std::vector<const StepOutcome*>& deps) {
  const Step& step = graph_.step(index);
  if (!step.skipReason.empty()) {
    return StepOutcome::of(StepStatus::kSkipped, step.skipReason);
  }
  if (interrupted_) {
    return StepOutcome::of(StepStatus::kCancelled, "interrupted");
  }
  try {
    if (step.kind == StepKind::kImage) {
      if (context_.images() == nullptr) {
        return StepOutcome::of(StepStatus::kFailed,
                               "no image output is configured");
      }
      // A dependency whose only output is a layer source already has that
      // source's digest: the image's up-to-date check need not walk it.
      ImageBuilder::KnownSources known;
      const auto& depIndexes = graph_.deps(index);
      for (std::size_t i = 0; i < depIndexes.size(); ++i) {
        const Step& dep = graph_.step(depIndexes[i]);
        if (dep.outputs.size() == 1 && !startsWith(dep.outputs[0], "!") &&
            isSuccess(deps[i]->status) && !deps[i]->outputDigest.empty()) {
          known[(dep.repoRoot / dep.outputs[0]).string()] =
              deps[i]->outputDigest;
        }
      }
      return context_.images()->build(
          step, options_.forced.count(step.id) > 0, known);
    }
    if (!step.cacheable) {
      auto started = Clock::now();
      StepOutcome outcome = runUncached(step);
      if (outcome.status == StepStatus::kBuilt) {
        finishBuilt(step, nullptr, elapsedSince(started), &outcome);
      }
      return outcome;
    }

    std::map<std::string, std::string> depDigests;
    const auto& depIndexes = graph_.deps(index);
    for (std::size_t i = 0; i < depIndexes.size(); ++i) {
      depDigests[graph_.step(depIndexes[i]).id] = deps[i]->outputDigest;
    }
    KeyInputs inputs = context_.keyInputs(step, depDigests);
    std::string key = inputs.key().hex();
    bool forced = options_.forced.count(step.id) > 0;
    std::optional<StepRecord> prior = context_.record().find(step.id);

    if (!forced && prior && prior->key == key &&
        outputSignature(step.repoRoot, step.outputs).hex() ==
            prior->signature) {
      StepOutcome outcome = StepOutcome::of(StepStatus::kUpToDate);
      outcome.actionKey = key;
      outcome.outputDigest = prior->outputDigest;
      outcome.outputBytes = prior->outputBytes;
      return outcome;
    }

    StepOutcome outcome;
    if (!forced && context_.policy().read && tryRestore(step, key, &outcome)) {
      context_.record().saveKeyInputs(step.id, inputs);
      return outcome;
    }
    std::string note = outcome.note;
    RemoteSteps* remote = context_.remote();
    std::string remoteReason;
    if (!forced && context_.policy().read && remote != nullptr &&
        remote->fetch(step, key, *context_.store(), &remoteReason)) {
      outcome = StepOutcome();
      if (tryRestore(step, key, &outcome)) {
        outcome.cacheSource = "remote";
        ++context_.counts().remoteHits;
        context_.record().saveKeyInputs(step.id, inputs);
        return outcome;
      }
      note = outcome.note;
    } else if (!remoteReason.empty()) {
      note = "remote cache entry for " + step.id + " not used (" +
             remoteReason + ")";
    }
    if (context_.policy().read) {
      ++context_.counts().misses;
    }

    std::string explanation;
    if (options_.explain) {
      std::optional<KeyInputs> before = context_.record().keyInputs(step.id);
      explanation = forced   ? "forced"
                    : before ? join(explainChanges(*before, inputs), "; ")
                             : "no earlier build of this step";
      if (explanation.empty()) {
        explanation = "outputs changed on disk";
      }
    }
    auto started = Clock::now();
    outcome = runUncached(step);
    outcome.actionKey = key;
    outcome.note = note;
    if (outcome.status == StepStatus::kBuilt) {
      outcome.detail = explanation;
      finishBuilt(step, &inputs, elapsedSince(started), &outcome);
    }
    return outcome;
  } catch (const UsageError& error) {
    return StepOutcome::of(StepStatus::kFailed, error.render());
  } catch (const std::exception& error) {
    return StepOutcome::of(StepStatus::kFailed, error.what());
  }
}

bool Executor::tryRestore(const Step& step, const std::string& key,
                          StepOutcome* outcome) {
  LocalStore& store = *context_.store();
  std::optional<std::string> entry = store.getAction(key);
  if (!entry) {
    return false;
  }
  auto reject = [&](const std::string& reason) {
    store.removeAction(key);
    outcome->note = "cache entry for " + step.id + " rejected (" + reason +
                    "); running the step";
    return false;
  };
  ActionRecord action;
  if (!ActionRecord::parse(*entry, &action)) {
    return reject("unreadable entry");
  }
  std::string manifestText;
  if (store.readBytes(action.manifest, &manifestText) != BlobRead::kOk) {
    return reject("manifest blob missing or corrupt");
  }
  TreeManifest manifest;
  std::string error;
  if (!TreeManifest::parse(manifestText, &manifest, &error)) {
    return reject(error);
  }
  RestoreResult restored = restoreOutputs(step.repoRoot, step.outputs, manifest,
                                          store, context_.statCache());
  if (!restored.ok) {
    return reject(restored.error);
  }
  std::string log;
  if (store.readBytes(action.log, &log) == BlobRead::kOk) {
    writeFileAtomic(logPath(step), log);
  }

  StepRecord record;
  record.key = key;
  record.outputDigest = action.manifest.hex();
  record.signature = outputSignature(step.repoRoot, step.outputs).hex();
  record.durationMs = action.durationMs;
  record.outputBytes = action.outputBytes;
  context_.record().update(step.id, record);
  ++context_.counts().hits;

  *outcome = StepOutcome::of(StepStatus::kRestored);
  outcome->actionKey = key;
  outcome->outputDigest = record.outputDigest;
  outcome->outputBytes = action.outputBytes;
  outcome->cacheSource = "local";
  return true;
}

void Executor::finishBuilt(const Step& step, const KeyInputs* inputs,
                           std::chrono::milliseconds duration,
                           StepOutcome* outcome) {
  OutputSnapshot snapshot =
      snapshotOutputs(step.repoRoot, step.outputs, context_.statCache());
  std::string manifestText = snapshot.manifest.serialize();
  outcome->outputDigest = sha256(manifestText).hex();
  outcome->outputBytes = snapshot.manifest.totalFileBytes();

  if (inputs != nullptr && context_.policy().write) {
    LocalStore& store = *context_.store();
    storeOutputs(step.repoRoot, snapshot.manifest, store);
    ActionRecord action;
    action.manifest = store.putBytes(manifestText);
    std::string log;
    tryReadFile(logPath(step), &log);
    action.log = store.putBytes(log);
    action.outputBytes = outcome->outputBytes;
    action.durationMs = static_cast<std::uint64_t>(duration.count());
    std::string recordText = action.serialize();
    store.putAction(outcome->actionKey, recordText);
    ++context_.counts().stores;
    if (RemoteSteps* remote = context_.remote()) {
      remote->upload(step, outcome->actionKey, snapshot.manifest, manifestText,
                     log, recordText);
    }
  }

  StepRecord record;
  record.key = inputs != nullptr ? outcome->actionKey : "";
  record.outputDigest = outcome->outputDigest;
  record.signature = snapshot.signature.hex();
  record.outputBytes = outcome->outputBytes;
  record.durationMs = static_cast<std::uint64_t>(duration.count());
  context_.record().update(step.id, record);
  if (inputs != nullptr) {
    context_.record().saveKeyInputs(step.id, *inputs);
  }
}

StepOutcome Executor::runUncached(const Step& step) {
  switch (step.kind) {
    case StepKind::kCommand:
      return runCommand(step);
    case StepKind::kWriteFile:
      return writeFile(step);
    case StepKind::kImage:
      break;
  }
  return StepOutcome::of(StepStatus::kFailed, "unknown step kind");
}

StepOutcome Executor::runCommand(const Step& step) {
  ProcessSpec spec;
  spec.argv = step.argv;
  spec.workingDir = step.absoluteWorkingDir();
  spec.env = stepEnvironment(step, context_.parentEnv());
  spec.logFile = logPath(step);
  spec.timeout = step.timeout;
  ProcessResult result = runProcess(spec, groups_, options_.killGrace);

  std::vector<std::string> secrets = secretValues(step, context_.parentEnv());
  if (!secrets.empty()) {
    std::string log;
    if (tryReadFile(spec.logFile, &log)) {
      std::string masked = maskSecrets(log, secrets);
      if (masked != log) {
        writeFileAtomic(spec.logFile, masked);
      }
    }
  }

  StepOutcome outcome;
  if (result.succeeded()) {
    outcome.status = StepStatus::kBuilt;
    return outcome;
  }
  if (interrupted_ && !result.timedOut) {
    outcome.status = StepStatus::kCancelled;
    outcome.detail = result.describe();
    return outcome;
  }
  outcome.status = StepStatus::kFailed;
  outcome.detail = result.describe() + " (log: " + spec.logFile.string() + ")";
  std::string tail =
      maskSecrets(tailLines(spec.logFile, options_.failureLogLines), secrets);
  if (!tail.empty()) {
    outcome.detail += "\n" + tail;
    if (outcome.detail.back() == '\n') {
      outcome.detail.pop_back();
    }
  }
  return outcome;
}

StepOutcome Executor::writeFile(const Step& step) {
  if (step.outputs.size() != 1) {
    return StepOutcome::of(StepStatus::kFailed,
                           "a write-file step needs exactly one output path");
  }
  fs::path target = step.repoRoot / step.outputs.front();
  std::string current;
  if (!tryReadFile(target, &current) || current != step.content) {
    writeFileAtomic(target, step.content, step.fileMode);
  }
  writeFileAtomic(logPath(step), "wrote " + step.outputs.front() + "\n");
  return StepOutcome::of(StepStatus::kBuilt);
}

}  // namespace kiln
