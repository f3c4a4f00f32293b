#include "plugins/sveltekit.h"

#include "plugins/image_options.h"

#include <cctype>
#include <regex>

#include "plugins/npm_project.h"
#include "plugins/project_files.h"
#include "util/error.h"
#include "util/strings.h"

namespace kiln {

namespace fs = std::filesystem;

namespace {

const char* const kAdapterAuto = "@sveltejs/adapter-auto";
const char* const kAdapterNode = "@sveltejs/adapter-node";

// Registers a resolve hook from a data: URL. The hook's own source is a
// string that the outer module encodes at run time, so the option needs
// one level of URL encoding only.
const char* const kHookModule =
    "import{register}from\"node:module\";"
    "register(\"data:text/javascript,\"+encodeURIComponent("
    "'export async function resolve(s,c,n){return n(s===\""
    "@sveltejs/adapter-auto\"?\"@sveltejs/adapter-node\":s,c)}'));";

// Percent-encodes everything but unreserved characters (RFC 3986), so the
// URL has no spaces that would split NODE_OPTIONS.
std::string percentEncode(const std::string& text) {
  static const char* const kHex = "0123456789ABCDEF";
  std::string encoded;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      encoded += static_cast<char>(c);
    } else {
      encoded += '%';
      encoded += kHex[c >> 4];
      encoded += kHex[c & 15];
    }
  }
  return encoded;
}

// The svelte.config file of the app, relative to the target directory.
std::string findSvelteConfig(const fs::path& appDir) {
  for (const char* name :
       {"svelte.config.js", "svelte.config.mjs", "svelte.config.ts"}) {
    if (fs::exists(appDir / name)) {
      return name;
    }
  }
  throw UsageError((appDir / "svelte.config.js").string() + " not found",
                   "a SvelteKit app needs svelte.config.js; check the "
                   "target's 'dir'");
}

// The adapter package that the config imports, such as
// "@sveltejs/adapter-auto", or "" when it imports none.
std::string importedAdapter(const std::string& configText) {
  static const std::regex kImport(
      R"re((from|import)\s*\(?\s*['"](@sveltejs/adapter-[a-z0-9-]+|svelte-adapter-[a-z0-9-]+)['"])re");
  std::smatch match;
  if (!std::regex_search(configText, match, kImport)) {
    return "";
  }
  return match[2].str();
}

}  // namespace

std::string adapterNodeHookOption() {
  return "--import=data:text/javascript," + percentEncode(kHookModule);
}

std::string SvelteKitPlugin::summary() const {
  return "builds a SvelteKit app into a Node server (build/) with "
         "@sveltejs/adapter-node";
}

std::vector<OptionSpec> SvelteKitPlugin::options() const {
  return {
      {"script", OptionType::kString, false,
       "npm script that runs `vite build`", "build"},
      imageOptionSpec("build/ and package.json in /app on "
                      "${KILN_NODE_BASE:-node:20-alpine}, node build"),
      {"port", OptionType::kInteger, false,
       "port the server listens on in its image (PORT)", "4173"},
  };
}

std::vector<Step> SvelteKitPlugin::expand(const ExpandContext& context) const {
  // 'port' is for the image step; it is only checked here.
  portOption(context, "port", 4173);
  const fs::path& root = context.repoRoot();
  const std::string& dir = context.target().dir;
  fs::path appDir = root / dir;
  fs::path manifestFile = appDir / "package.json";
  nlohmann::json manifest = readJsonFile(manifestFile);

  std::string script = context.string("script", "build");
  if (!hasScript(manifest, script)) {
    throw UsageError(
        manifestFile.string() + " has no \"" + script + "\" script",
        "add \"" + script +
            "\": \"vite build\" to \"scripts\", "
            "or set the target's 'script' option");
  }
  if (!declaresDependency(manifest, kAdapterNode)) {
    throw UsageError(manifestFile.string() + " does not list " + kAdapterNode +
                         ", which builds the Node server",
                     "run `npm install -D @sveltejs/adapter-node@^5.5` in " +
                         appDir.string() +
                         " and commit package.json and "
                         "package-lock.json");
  }
  std::string configName = findSvelteConfig(appDir);
  fs::path configFile = appDir / configName;
  std::string adapter =
      importedAdapter(readProjectFile(configFile).value_or(""));
  if (adapter != kAdapterAuto && adapter != kAdapterNode) {
    throw UsageError(
        configFile.string() + " imports " +
            (adapter.empty() ? std::string("no adapter") : adapter) +
            ", but the sveltekit plugin builds with " + kAdapterNode,
        "import adapter from '@sveltejs/adapter-auto' (kiln swaps it for "
        "adapter-node) or from '@sveltejs/adapter-node'");
  }

  NpmProject project = findNpmProject(context, dir);
  std::vector<Step> steps;
  Step install = npmInstallStep(context, project);
  std::string installId = install.id;
  steps.push_back(std::move(install));

  // adapter-node bundles devDependencies into build/; only "dependencies"
  // stay imports that `node build` resolves from node_modules.
  bool needsProductionModules = !dependencyNames(manifest, false).empty();
  if (needsProductionModules) {
    for (auto& step : productionInstallSteps(context, project, {}, {})) {
      steps.push_back(std::move(step));
    }
  }

  Step build = context.makeStep(context.target().name + ":build",
                                "build " + context.target().name);
  build.argv = {"npm", "run", script};
  build.env["NODE_ENV"] = "production";
  if (adapter == kAdapterAuto) {
    build.env["NODE_OPTIONS"] = adapterNodeHookOption();
  }
  build.tools = {"node", "npm"};
  for (const char* input :
       {"src/**", "static/**", "package.json", "svelte.config.*",
        "vite.config.*", "tsconfig.json", "jsconfig.json", "postcss.config.*",
        "tailwind.config.*", ".env", ".env.production"}) {
    build.inputs.push_back(joinRelative(dir, input));
  }
  // NOTE: adapter-node's `out` option is assumed to be the default,
  // "build"; a config that sets another directory needs an 'out' option
  // here.
  build.outputs = {joinRelative(dir, "build")};
  build.deps = {installId};
  std::string buildId = build.id;
  std::string buildOutput = build.outputs.front();
  steps.push_back(std::move(build));
  if (!context.has("image")) {
    return steps;
  }
  ImageSpec image = imageDefaults(context, "${KILN_NODE_BASE:-node:20-alpine}",
                                  "/app", portOption(context, "port", 4173));
  image.env.push_back("NODE_ENV=production");
  image.cmd = {"node", "build"};
  image.setCmd = true;
  image.layers.push_back({buildId, buildOutput, "/app/build"});
  image.layers.push_back(
      {"", joinRelative(dir, "package.json"), "/app/package.json"});
  if (needsProductionModules) {
    image.layers.push_back({project.productionId(context.target().repo),
                            joinRelative(project.dir, kProductionModulesDir),
                            "/app/node_modules"});
  }
  image = readImageOption(context, image);
  steps.push_back(makeImageStep(context, image));
  return steps;
}

}  // namespace kiln
