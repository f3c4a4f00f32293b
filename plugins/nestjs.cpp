#include "plugins/nestjs.h"

#include "plugins/image_options.h"

#include <set>

#include "plugins/npm_project.h"
#include "plugins/project_files.h"
#include "util/error.h"
#include "util/strings.h"

namespace kiln {

namespace fs = std::filesystem;

namespace {

// Build configuration files of a Node package that change what its build
// writes, besides the sources.
const std::vector<std::string> kPackageConfigFiles = {
    "package.json", "tsconfig*.json",   "nest-cli.json",
    ".swcrc",       "webpack.config.*", "rspack.config.*",
};

// A workspace library that a service imports, in build order.
struct Library {
  const NpmWorkspace* workspace = nullptr;
  std::string buildId;  // empty when the library has no build script
  std::string output;   // relative to the library directory
};

// Resolves a tsconfig file's "outDir", following relative "extends" a few
// levels; returns the directory relative to the repository root, or "".
std::string tsconfigOutDir(const fs::path& root, const std::string& config) {
  std::string file = config;
  for (int depth = 0; depth < 5; ++depth) {
    std::optional<nlohmann::json> json = readOptionalJsonFile(root / file);
    if (!json || !json->is_object()) {
      return "";
    }
    std::string dir = parentRelative(file);
    if (json->contains("compilerOptions")) {
      std::string outDir = jsonString((*json)["compilerOptions"], "outDir");
      if (!outDir.empty()) {
        return fs::path(joinRelative(dir, outDir))
            .lexically_normal()
            .generic_string();
      }
    }
    std::string extends = jsonString(*json, "extends");
    if (extends.empty() || !startsWith(extends, ".")) {
      return "";
    }
    file = fs::path(joinRelative(dir, extends)).lexically_normal().string();
  }
  return "";
}

// The tsconfig file a package builds with: tsconfig.build.json when present.
std::string packageTsconfig(const fs::path& root, const std::string& dir) {
  std::string build = joinRelative(dir, "tsconfig.build.json");
  return fs::exists(root / build) ? build : joinRelative(dir, "tsconfig.json");
}

// Output directory of a package, relative to the package: its tsconfig's
// outDir, else "dist".
std::string packageOutput(const fs::path& root, const std::string& dir,
                          const std::string& tsconfig) {
  std::string outDir = tsconfigOutDir(root, tsconfig);
  if (outDir.empty()) {
    return "dist";
  }
  std::string relative = fs::path(outDir)
                             .lexically_relative(dir.empty() ? "." : dir)
                             .generic_string();
  return relative.empty() || startsWith(relative, "..") ? "dist" : relative;
}

// tsconfig files in every directory from `dir`'s parent up to `top`, which
// a package's tsconfig may extend.
void addAncestorTsconfigs(const std::string& dir, const std::string& top,
                          std::vector<std::string>& inputs) {
  std::string current = dir;
  while (current != top && !current.empty()) {
    current = parentRelative(current);
    inputs.push_back(joinRelative(current, "tsconfig*.json"));
  }
}

// Inputs of a package build: its sources, its configuration files and the
// tsconfig files it may extend, without its output and node_modules.
std::vector<std::string> packageInputs(const fs::path& root,
                                       const std::string& dir,
                                       const std::string& sourceRoot,
                                       const std::string& output,
                                       const std::string& projectDir) {
  std::vector<std::string> inputs;
  if (isDirectory(root / dir / sourceRoot)) {
    inputs.push_back(joinRelative(dir, sourceRoot + "/**"));
  } else {
    inputs.push_back(joinRelative(dir, "**"));
    inputs.push_back("!" + joinRelative(dir, output + "/**"));
    inputs.push_back("!" + joinRelative(dir, "node_modules/**"));
  }
  for (const auto& file : kPackageConfigFiles) {
    inputs.push_back(joinRelative(dir, file));
  }
  addAncestorTsconfigs(dir, projectDir, inputs);
  if (dir != projectDir) {
    inputs.push_back(joinRelative(projectDir, "package.json"));
  }
  return inputs;
}

// Collects the workspace libraries that `manifest` imports, directly or
// through other libraries, each after the libraries it imports.
void collectLibraries(const NpmProject& project, const nlohmann::json& manifest,
                      std::set<std::string>& seen,
                      std::vector<const NpmWorkspace*>& order) {
  for (const auto& name : dependencyNames(manifest, true)) {
    const NpmWorkspace* workspace = project.findWorkspace(name);
    if (workspace == nullptr || !seen.insert(name).second) {
      continue;
    }
    collectLibraries(project, workspace->manifest, seen, order);
    order.push_back(workspace);
  }
}

// Validates the options that describe how the service runs. Only the image
// step uses them, so a target without `image` checks and then ignores them.
void checkRuntimeOptions(const ExpandContext& context) {
  portOption(context, "port", 3000);
  relativePathOption(context, "entry", "dist/main.js");
}

// The image of a service: the production node_modules of its lockfile,
// its package.json (which says whether dist/ holds ES modules) and its
// build output, in /app, started with `node ENTRY` as a non-root user.
Step serviceImage(const ExpandContext& context, const NpmProject& project,
                  const std::string& buildId, const std::string& output,
                  const std::string& outputInImage,
                  const std::string& packageJson) {
  int port = context.has("port") ? portOption(context, "port", 3000) : 0;
  ImageSpec image =
      imageDefaults(context, "${KILN_NODE_BASE:-node:20-alpine}", "/app", port);
  image.env.push_back("NODE_ENV=production");
  image.cmd = {"node", context.string("entry", "dist/main.js")};
  image.setCmd = true;
  image.layers.push_back({project.productionId(context.target().repo),
                          joinRelative(project.dir, kProductionModulesDir),
                          "/app/node_modules"});
  image.layers.push_back({"", packageJson, "/app/package.json"});
  image.layers.push_back({buildId, output, outputInImage});
  image = readImageOption(context, image);
  return makeImageStep(context, image);
}

std::vector<Step> expandWorkspacePackage(const ExpandContext& context) {
  const fs::path& root = context.repoRoot();
  const std::string& repo = context.target().repo;
  const std::string& dir = context.target().dir;
  std::string script = context.string("script", "build");

  fs::path manifestFile = root / dir / "package.json";
  nlohmann::json manifest = readJsonFile(manifestFile);
  if (!hasScript(manifest, script)) {
    throw UsageError(
        manifestFile.string() + " has no \"" + script + "\" script",
        "add \"" + script +
            "\": \"nest build\" to \"scripts\", "
            "or set the target's 'script' option");
  }
  NpmProject project = findNpmProject(context, dir);

  std::vector<Step> steps;
  Step install = npmInstallStep(context, project);
  std::string installId = install.id;
  steps.push_back(std::move(install));

  std::set<std::string> seen;
  std::vector<const NpmWorkspace*> order;
  collectLibraries(project, manifest, seen, order);
  std::vector<Library> libraries;
  std::vector<std::string> libraryBuilds;
  for (const NpmWorkspace* workspace : order) {
    Library library;
    library.workspace = workspace;
    std::string tsconfig = packageTsconfig(root, workspace->dir);
    if (!hasScript(workspace->manifest, "build")) {
      library.output = "package.json";
      libraries.push_back(library);
      continue;
    }
    library.output = packageOutput(root, workspace->dir, tsconfig);
    library.buildId =
        project.stepPrefix(repo) + ":" + workspace->dir + ":build";
    Step build =
        makeSharedStep(context, library.buildId,
                       "build library " + workspace->name, project.dir);
    std::string relative =
        fs::path(workspace->dir)
            .lexically_relative(project.dir.empty() ? "." : project.dir)
            .generic_string();
    build.argv = {"npm", "run", "build", "-w", relative};
    build.env = {{"NODE_ENV", "production"}};
    build.tools = {"node", "npm"};
    build.inputs =
        packageInputs(root, workspace->dir, "src", library.output, project.dir);
    build.outputs = {joinRelative(workspace->dir, library.output)};
    build.deps = {installId};
    std::set<std::string> ownSeen;
    std::vector<const NpmWorkspace*> ownLibraries;
    collectLibraries(project, workspace->manifest, ownSeen, ownLibraries);
    for (const auto& previous : libraries) {
      if (!previous.buildId.empty() &&
          ownSeen.count(previous.workspace->name)) {
        build.deps.push_back(previous.buildId);
      }
    }
    libraryBuilds.push_back(library.buildId);
    libraries.push_back(library);
    steps.push_back(std::move(build));
  }

  std::vector<ProductionLibrary> productionLibraries;
  for (const auto& library : libraries) {
    productionLibraries.push_back({library.workspace->dir, library.output});
  }
  for (auto& step : productionInstallSteps(
           context, project, productionLibraries, libraryBuilds)) {
    steps.push_back(std::move(step));
  }

  // nest-cli.json of the service names its source root and tsconfig.
  nlohmann::json nestConfig = readOptionalJsonFile(root / dir / "nest-cli.json")
                                  .value_or(nlohmann::json::object());
  std::string sourceRoot = jsonString(nestConfig, "sourceRoot", "src");
  std::string tsconfig = packageTsconfig(root, dir);
  if (nestConfig.contains("compilerOptions")) {
    std::string configured =
        jsonString(nestConfig["compilerOptions"], "tsConfigPath");
    if (!configured.empty()) {
      tsconfig = joinRelative(dir, configured);
    }
  }
  std::string output = packageOutput(root, dir, tsconfig);

  Step build = context.makeStep(context.target().name + ":build",
                                "build " + context.target().name);
  if (project.workspaceAt(dir) != nullptr) {
    build.workingDir = project.dir;
    build.argv = {
        "npm", "run", script, "-w",
        fs::path(dir)
            .lexically_relative(project.dir.empty() ? "." : project.dir)
            .generic_string()};
  } else {
    build.argv = {"npm", "run", script};
  }
  build.env["NODE_ENV"] = "production";
  build.tools = {"node", "npm"};
  build.inputs = packageInputs(root, dir, sourceRoot, output, project.dir);
  build.outputs = {joinRelative(dir, output)};
  build.deps = {installId};
  build.deps.insert(build.deps.end(), libraryBuilds.begin(),
                    libraryBuilds.end());
  if (context.has("image")) {
    Step image =
        serviceImage(context, project, build.id, build.outputs.front(),
                     "/app/" + output, joinRelative(dir, "package.json"));
    steps.push_back(std::move(build));
    steps.push_back(std::move(image));
  } else {
    steps.push_back(std::move(build));
  }
  return steps;
}

// A Nest CLI monorepo: nest-cli.json with "monorepo": true in `nestDir`,
// whose "projects" include the target's directory.
std::vector<Step> expandMonorepoApp(const ExpandContext& context,
                                    const std::string& nestDir,
                                    const nlohmann::json& nestConfig) {
  const fs::path& root = context.repoRoot();
  const std::string& dir = context.target().dir;
  fs::path configFile = root / nestDir / "nest-cli.json";
  std::string relativeDir =
      fs::path(dir)
          .lexically_relative(nestDir.empty() ? "." : nestDir)
          .generic_string();

  std::string appName;
  nlohmann::json app;
  std::vector<nlohmann::json> libraries;
  if (nestConfig.contains("projects") && nestConfig["projects"].is_object()) {
    for (const auto& [name, project] : nestConfig["projects"].items()) {
      if (jsonString(project, "type") == "library") {
        libraries.push_back(project);
      } else if (jsonString(project, "root") == relativeDir) {
        appName = name;
        app = project;
      }
    }
  }
  if (appName.empty()) {
    throw UsageError(configFile.string() +
                         " has no application project "
                         "with \"root\": \"" +
                         relativeDir + "\"",
                     "add the application under \"projects\", or leave " +
                         relativeDir + " out of the target list");
  }

  NpmProject project = findNpmProject(context, nestDir);
  std::vector<Step> steps;
  Step install = npmInstallStep(context, project);
  std::string installId = install.id;
  steps.push_back(std::move(install));
  for (auto& step : productionInstallSteps(context, project, {}, {})) {
    steps.push_back(std::move(step));
  }

  std::string tsconfig = joinRelative(dir, "tsconfig.app.json");
  if (app.contains("compilerOptions")) {
    std::string configured = jsonString(app["compilerOptions"], "tsConfigPath");
    if (!configured.empty()) {
      tsconfig = joinRelative(nestDir, configured);
    }
  }
  std::string output = tsconfigOutDir(root, tsconfig);
  if (output.empty()) {
    output = joinRelative(nestDir, "dist/apps/" + appName);
  }

  Step build = context.makeStep(context.target().name + ":build",
                                "build " + context.target().name);
  build.workingDir = nestDir;
  build.argv = {"npm", "exec", "--no", "--", "nest", "build", appName};
  build.env["NODE_ENV"] = "production";
  build.tools = {"node", "npm"};
  for (const auto& file : kPackageConfigFiles) {
    build.inputs.push_back(joinRelative(nestDir, file));
  }
  auto addProject = [&](const nlohmann::json& entry) {
    std::string projectRoot = joinRelative(nestDir, jsonString(entry, "root"));
    std::string sourceRoot =
        jsonString(entry, "sourceRoot", jsonString(entry, "root") + "/src");
    build.inputs.push_back(joinRelative(nestDir, sourceRoot + "/**"));
    build.inputs.push_back(joinRelative(projectRoot, "tsconfig*.json"));
  };
  addProject(app);
  // NOTE: every library project is an input of every application, because
  // which libraries an application imports is only known from its sources.
  for (const auto& library : libraries) {
    addProject(library);
  }
  build.outputs = {output};
  build.deps = {installId};
  if (context.has("image")) {
    Step image = serviceImage(context, project, build.id, output, "/app/dist",
                              joinRelative(nestDir, "package.json"));
    steps.push_back(std::move(build));
    steps.push_back(std::move(image));
  } else {
    steps.push_back(std::move(build));
  }
  return steps;
}

}  // namespace

std::string NestJsPlugin::summary() const {
  return "builds a NestJS service (npm workspace or Nest CLI monorepo) and "
         "its production-only node_modules";
}

std::vector<OptionSpec> NestJsPlugin::options() const {
  return {
      {"script", OptionType::kString, false,
       "npm script that builds the service (npm workspaces only)", "build"},
      {"port", OptionType::kInteger, false,
       "port the service listens on in its image (PORT)",
       "the service's own default"},
      {"entry", OptionType::kString, false,
       "file that starts the service, relative to its directory",
       "dist/main.js"},
      imageOptionSpec("node_modules, package.json and dist/ in /app on "
                      "${KILN_NODE_BASE:-node:20-alpine}, node ENTRY"),
  };
}

std::vector<Step> NestJsPlugin::expand(const ExpandContext& context) const {
  checkRuntimeOptions(context);
  const fs::path& root = context.repoRoot();
  const std::string& dir = context.target().dir;

  // A nest-cli.json in the service's own directory means a standalone
  // package (an npm workspace or its own project). Otherwise the nearest one
  // above it may be a monorepo's.
  if (!fs::exists(root / dir / "nest-cli.json")) {
    std::string current = dir;
    while (!current.empty()) {
      current = parentRelative(current);
      std::optional<nlohmann::json> config =
          readOptionalJsonFile(root / current / "nest-cli.json");
      if (!config) {
        continue;
      }
      if (config->value("monorepo", false)) {
        if (context.has("script")) {
          throw context.optionError(
              "script",
              "'script' does not apply to a Nest CLI monorepo application",
              "remove it; kiln runs `nest build APP` for each application");
        }
        return expandMonorepoApp(context, current, *config);
      }
      break;
    }
  }
  return expandWorkspacePackage(context);
}

}  // namespace kiln
