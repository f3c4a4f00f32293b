#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cache/remote/signature.h"
#include "cli/build_command.h"
#include "cli/exit_codes.h"
#include "cli/graph_format.h"
#include "cli/maintenance_commands.h"
#include "cli/session.h"
#include "core/interrupt.h"
#include "core/process.h"
#include "core/targets.h"
#include "plugins/builtin.h"
#include "util/error.h"
#include "util/strings.h"

#ifndef KILN_VERSION
#define KILN_VERSION "0.0.0"
#endif

namespace kiln {
namespace {

void printError(const std::string& text) {
  std::fprintf(stderr, "kiln: error: %s\n", text.c_str());
}

int listTargets(Session& session, const std::vector<std::string>& names,
                bool json) {
  if (json) {
    nlohmann::json targets = nlohmann::json::array();
    for (const auto& target : session.targets) {
      if (std::find(names.begin(), names.end(), target.name) == names.end()) {
        continue;
      }
      targets.push_back({{"name", target.name},
                         {"plugin", target.plugin},
                         {"repo", target.repo},
                         {"dir", target.dir},
                         {"deps", target.deps}});
    }
    std::printf("%s\n", nlohmann::json{{"targets", targets}}.dump(2).c_str());
    return kExitSuccess;
  }
  std::size_t nameWidth = 6;
  std::size_t pluginWidth = 6;
  for (const auto& target : session.targets) {
    nameWidth = std::max(nameWidth, target.name.size());
    pluginWidth = std::max(pluginWidth, target.plugin.size());
  }
  auto row = [&](const std::string& name, const std::string& plugin,
                 const std::string& where, const std::string& deps) {
    std::printf("%-*s  %-*s  %s%s\n", static_cast<int>(nameWidth),
                name.c_str(), static_cast<int>(pluginWidth), plugin.c_str(),
                where.c_str(), deps.empty() ? "" : ("  " + deps).c_str());
  };
  bool header = false;
  for (const auto& target : session.targets) {
    if (std::find(names.begin(), names.end(), target.name) == names.end()) {
      continue;
    }
    if (!header) {
      row("TARGET", "PLUGIN", "REPO:DIR", "DEPS");
      header = true;
    }
    row(target.name, target.plugin,
        target.repo + ":" + (target.dir.empty() ? "." : target.dir),
        join(target.deps, ", "));
  }
  return kExitSuccess;
}

int listRepos(Session& session) {
  for (const auto& [name, repo] : session.workspace.repos) {
    std::string state = "not a git repository";
    if (repo.isGit) {
      GitState git = readGitState(repo.root);
      state = (git.branch.empty() ? "detached" : git.branch) + " " +
              git.headCommit.substr(0, 12) +
              (isDirty(repo.root) ? " (dirty)" : "");
    }
    std::printf("%-20s %s  %s\n", name.c_str(), repo.root.c_str(),
                state.c_str());
  }
  return kExitSuccess;
}

int listPlugins(const PluginRegistry& plugins) {
  for (const Plugin* plugin : plugins.all()) {
    std::printf("%s (version %d): %s\n", plugin->name().c_str(),
                plugin->version(), plugin->summary().c_str());
    for (const auto& option : plugin->options()) {
      std::string detail = optionTypeName(option.type);
      if (option.required) {
        detail += ", required";
      } else if (!option.defaultValue.empty()) {
        detail += ", default: " + option.defaultValue;
      }
      std::printf("  %-16s %s (%s)\n", option.name.c_str(), option.help.c_str(),
                  detail.c_str());
    }
  }
  return kExitSuccess;
}

BuildControl* gControl = nullptr;

int run(int argc, char** argv) {
  BuildControl control;
  gControl = &control;
  InterruptHandler interrupts([](int) {
    if (!gControl->building) {
      std::fputs("\nkiln: interrupted\n", stderr);
      std::_Exit(kExitInterrupted);
    }
    gControl->interrupt();
  });
  becomeChildSubreaper();

  PluginRegistry plugins;
  registerBuiltinPlugins(plugins);

  CLI::App app{
      "kiln builds the artifacts of several git repositories from "
      "one pipeline file, with a content-addressed cache."};
  app.set_version_flag("--version", std::string("kiln ") + KILN_VERSION);
  app.require_subcommand(1);
  app.fallthrough();

  GlobalOptions global;
  std::string pipelinePath = "kiln.yaml";
  std::string workspaceDir;
  app.add_option("-p,--pipeline", pipelinePath,
                 "pipeline file (default: kiln.yaml in this directory)");
  app.add_option("--workspace", workspaceDir,
                 "directory that repository paths are relative to; kiln's "
                 "state goes in DIR/.kiln");
  std::string output = "auto";
  app.add_option("--output", output,
                 "progress style: auto, tty, plain or github")
      ->check(CLI::IsMember({"auto", "tty", "plain", "github"}))
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);

  BuildOptions build;
  auto* buildCommand = app.add_subcommand("build", "build targets");
  buildCommand->add_option("targets", build.targets,
                           "targets by name, glob ('auth*') or repository "
                           "('front:*'); default: all");
  buildCommand
      ->add_option("-j,--jobs", build.jobs,
                   "steps run at once (default: number of cores)")
      ->check(CLI::PositiveNumber);
  buildCommand->add_flag("-k,--keep-going", build.keepGoing,
                         "after a failure, build everything that does not "
                         "depend on it");
  auto* dryRunFlag = buildCommand->add_flag(
      "-n,--dry-run", build.dryRun,
      "print every selected step's command in build order and run nothing "
      "(--json adds whether each would run)");
  buildCommand
      ->add_flag("--json", build.json,
                 "with --dry-run: print each step's action key and whether "
                 "it would hit, as JSON")
      ->needs(dryRunFlag);
  buildCommand->add_flag("--no-cache", build.noCache,
                         "neither read nor write the cache; steps whose "
                         "outputs are up to date still do not run");
  // One value per occurrence: CLI11 would otherwise take the target names
  // that follow as more values.
  buildCommand
      ->add_option("--force", build.force,
                   "rerun the steps of this target and overwrite their cache "
                   "entries (repeatable)")
      ->allow_extra_args(false);
  buildCommand->add_flag("--explain", build.explain,
                         "say what changed for each step that runs");
  std::vector<std::string> sinceValues;
  auto* sinceOption = buildCommand->add_option(
      "--since", sinceValues,
      "build only targets whose inputs changed since the merge base with "
      "REF (default origin/main), and their dependents; REPO=REF sets one "
      "repository's ref");
  sinceOption->expected(0, 1)
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  buildCommand->add_option("--shard", build.shard,
                           "build part I of N of the targets, such as 2/3");
  buildCommand->add_option("--remote-cache", build.remoteCache,
                           "HTTP cache URL (bazel-remote protocol), such as "
                           "http://cache:8080/team; default: "
                           "$KILN_REMOTE_CACHE");
  buildCommand->add_flag("--remote-cache-readonly", build.remoteReadOnly,
                         "read the remote cache but never write to it");
  std::string signKey;
  std::string verifyKey;
  buildCommand->add_option("--remote-cache-sign-key", signKey,
                           "Ed25519 private key (PEM) that signs uploaded "
                           "entries; default: $KILN_REMOTE_CACHE_SIGN_KEY");
  buildCommand->add_option("--remote-cache-verify-key", verifyKey,
                           "Ed25519 public key (PEM): entries not signed "
                           "with its private key are misses; default: "
                           "$KILN_REMOTE_CACHE_VERIFY_KEY");
  std::string outDir;
  buildCommand->add_option("--out", outDir,
                           "directory for images: an OCI layout, the images "
                           "lock file, a Compose override and archives "
                           "(default: .kiln/images in the workspace)");
  buildCommand->add_flag("--oci-archive", build.images.ociArchive,
                         "also write each image as an oci-archive tarball");
  buildCommand->add_flag("--docker-archive", build.images.dockerArchive,
                         "also write each image as a docker-archive tarball "
                         "for docker load or podman load");
  std::string summaryJson;
  std::string profile;
  std::string junit;
  buildCommand->add_option("--summary-json", summaryJson,
                           "write each step's status, key, cache hit, "
                           "duration and outputs to FILE as JSON");
  buildCommand->add_option("--profile", profile,
                           "write a Chrome trace of the build to FILE");
  buildCommand->add_option("--junit", junit,
                           "write a JUnit XML report of the steps to FILE");
  buildCommand->add_flag("--stats", build.stats,
                         "print wall time, critical path and scheduling "
                         "efficiency at the end");
  double killGraceSeconds = 5;
  buildCommand
      ->add_option("--kill-grace", killGraceSeconds,
                   "seconds between SIGTERM and SIGKILL when a step "
                   "is stopped (default: 5)")
      ->check(CLI::NonNegativeNumber);

  auto* lsCommand = app.add_subcommand("ls", "list targets");
  bool listRepositories = false;
  lsCommand->add_flag("--repos", listRepositories,
                      "list repositories with their branch, commit and "
                      "whether the tree is dirty");
  bool listJson = false;
  lsCommand->add_flag("--json", listJson, "print the targets as JSON");
  std::vector<std::string> lsSinceValues;
  auto* lsSinceOption = lsCommand->add_option(
      "--since", lsSinceValues,
      "list only targets affected since REF (see kiln build --since)");
  lsSinceOption->expected(0, 1)
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);

  std::string graphFormat = "dot";
  std::vector<std::string> graphTargets;
  auto* graphCommand =
      app.add_subcommand("graph", "print the build graph of targets");
  graphCommand->add_option("--format", graphFormat, "dot, mermaid or json");
  graphCommand->add_option("targets", graphTargets, "targets (default: all)");

  app.add_subcommand("plugins", "list plugins and their options");

  std::string pushDestination;
  std::string pushOut;
  auto* pushCommand = app.add_subcommand(
      "push",
      "push the built images to REGISTRY/NAMESPACE (http:// first "
      "for a plain-HTTP registry)");
  pushCommand
      ->add_option("destination", pushDestination,
                   "REGISTRY/NAMESPACE, such as ghcr.io/acme")
      ->required();
  pushCommand->add_option("--out", pushOut,
                          "the image directory of the build (default: "
                          ".kiln/images in the workspace)");

  auto* basesCommand = app.add_subcommand("bases", "manage pinned base images");
  basesCommand->require_subcommand(1);
  auto* basesUpdateCommand = basesCommand->add_subcommand(
      "update", "resolve every pinned base image tag again");

  std::vector<std::string> whyTargets;
  auto* whyCommand = app.add_subcommand(
      "why", "say which steps of targets would run, and what changed");
  whyCommand->add_option("targets", whyTargets, "targets")->required();

  std::vector<std::string> cleanTargets;
  auto* cleanCommand = app.add_subcommand(
      "clean", "remove targets' outputs and kiln's state in the workspace");
  cleanCommand->add_option("targets", cleanTargets, "targets (default: all)");

  auto* cacheCommand = app.add_subcommand("cache", "inspect the local cache");
  cacheCommand->require_subcommand(1);
  auto* statsCommand =
      cacheCommand->add_subcommand("stats", "entries, size, hits and misses");
  auto* verifyCommand = cacheCommand->add_subcommand(
      "verify", "check every blob against its digest");
  std::optional<std::string> gcMaxSize;
  std::optional<std::string> gcMaxAge;
  std::string keygenPrivate;
  std::string keygenPublic;
  auto* keygenCommand = cacheCommand->add_subcommand(
      "keygen", "write an Ed25519 key pair for signing remote cache entries");
  keygenCommand
      ->add_option("private", keygenPrivate,
                   "private key file to write (mode 0600)")
      ->required();
  keygenCommand->add_option("public", keygenPublic, "public key file to write")
      ->required();
  auto* gcCommand =
      cacheCommand->add_subcommand("gc", "evict least recently used entries");
  gcCommand->add_option("--max-size", gcMaxSize,
                        "keep at most this much, such as 10G (K, M, G, T)");
  gcCommand->add_option("--max-age", gcMaxAge,
                        "remove entries unused for longer, such as 30d");
  auto* helpCommand = app.add_subcommand("help", "show this help");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& help) {
    return app.exit(help);
  } catch (const CLI::CallForAllHelp& help) {
    return app.exit(help);
  } catch (const CLI::Success& success) {
    return app.exit(success);
  } catch (const CLI::ParseError& error) {
    printError(error.what());
    std::fprintf(stderr, "  run 'kiln help' for usage\n");
    return kExitUsage;
  }

  if (helpCommand->parsed()) {
    std::cout << app.get_formatter()->make_help(&app, "kiln",
                                                CLI::AppFormatMode::Normal);
    return kExitSuccess;
  }
  if (app.got_subcommand("plugins")) {
    return listPlugins(plugins);
  }
  if (statsCommand->parsed()) {
    return runCacheStats();
  }
  if (verifyCommand->parsed()) {
    return runCacheVerify();
  }
  if (keygenCommand->parsed()) {
    if (std::filesystem::absolute(keygenPrivate).lexically_normal() ==
        std::filesystem::absolute(keygenPublic).lexically_normal()) {
      throw UsageError("the private and public key files are both " +
                           keygenPrivate,
                       "name two different files");
    }
    for (const auto& file : {keygenPrivate, keygenPublic}) {
      if (std::filesystem::exists(file)) {
        // It may be the key that trusted CI signs with.
        throw UsageError("key file " + file + " already exists",
                         "remove it first if you mean to replace the key, "
                         "or name other files");
      }
    }
    generateSigningKeyPair(keygenPrivate, keygenPublic);
    std::printf("wrote %s (private, keep it on trusted CI only) and %s\n",
                keygenPrivate.c_str(), keygenPublic.c_str());
    return kExitSuccess;
  }
  if (gcCommand->parsed()) {
    return runCacheGc(gcMaxSize, gcMaxAge);
  }

  global.pipeline = pipelinePath;
  if (!workspaceDir.empty()) {
    global.workspace = workspaceDir;
  }
  OutputMode mode = output == "tty"      ? OutputMode::kTty
                    : output == "plain"  ? OutputMode::kPlain
                    : output == "github" ? OutputMode::kGithub
                                         : detectOutputMode(stdout);
  build.killGrace = std::chrono::milliseconds(
      static_cast<long long>(killGraceSeconds * 1000));

  build.since = parseSince(sinceValues, sinceOption->count() > 0);
  build.summaryJson = summaryJson;
  build.images.dir = outDir;
  build.signKey = signKey;
  build.verifyKey = verifyKey;
  build.profile = profile;
  build.junit = junit;

  Session session = loadSession(global, plugins);
  if (buildCommand->parsed()) {
    return runBuild(session, build, control, mode);
  }
  if (pushCommand->parsed()) {
    ImageOutputOptions images;
    images.dir = pushOut;
    return runPush(session, pushDestination, images);
  }
  if (basesUpdateCommand->parsed()) {
    return runBasesUpdate(session);
  }
  if (whyCommand->parsed()) {
    return runWhy(session, whyTargets);
  }
  if (cleanCommand->parsed()) {
    return runClean(session, cleanTargets);
  }
  if (lsCommand->parsed()) {
    if (listRepositories) {
      return listRepos(session);
    }
    std::vector<std::string> warnings;
    std::vector<std::string> names = chooseTargets(
        session, {}, parseSince(lsSinceValues, lsSinceOption->count() > 0), "",
        &warnings);
    for (const auto& warning : warnings) {
      std::fprintf(stderr, "warning: %s\n", warning.c_str());
    }
    return listTargets(session, names, listJson);
  }
  if (graphCommand->parsed()) {
    std::vector<bool> selected =
        session.graph.closure(selectTargets(session.targets, graphTargets));
    std::fputs(formatGraph(session.graph, selected, graphFormat).c_str(),
               stdout);
    return kExitSuccess;
  }
  return kExitUsage;
}

// Waits for orphaned grandchildren that were reparented to kiln.
void reapOrphans() {
  int status = 0;
  while (::waitpid(-1, &status, WNOHANG) > 0) {
  }
}

}  // namespace
}  // namespace kiln

int main(int argc, char** argv) {
  int code = kiln::kExitStepFailed;
  try {
    code = kiln::run(argc, argv);
  } catch (const kiln::UsageError& error) {
    kiln::printError(error.render());
    code = kiln::kExitUsage;
  } catch (const std::exception& error) {
    kiln::printError(error.what());
    code = kiln::kExitStepFailed;
  }
  kiln::reapOrphans();
  std::fflush(stdout);
  return code;
}
