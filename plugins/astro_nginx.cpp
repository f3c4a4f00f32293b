#include "plugins/astro_nginx.h"

#include "plugins/image_options.h"

#include "plugins/nginx_config.h"
#include "plugins/npm_project.h"
#include "plugins/project_files.h"
#include "util/error.h"

namespace kiln {

namespace fs = std::filesystem;

const char* const kAstroNginxConfigPath = ".kiln-out/nginx.conf";

std::string AstroNginxPlugin::summary() const {
  return "builds an Astro site (dist/) and the nginx.conf that serves it";
}

std::vector<OptionSpec> AstroNginxPlugin::options() const {
  return {
      imageOptionSpec("the site in 'root' and the generated nginx.conf on "
                      "${KILN_NGINX_BASE:-nginx:alpine}"),
      {"port", OptionType::kInteger, false,
       "port nginx listens on; above 1023 so it runs as a non-root user",
       "8080"},
      {"root", OptionType::kString, false,
       "directory of the site inside the image, written as nginx's root",
       "/usr/share/nginx/html"},
      {"out_dir", OptionType::kString, false,
       "Astro's output directory (outDir), relative to dir", "dist"},
  };
}

std::vector<Step> AstroNginxPlugin::expand(const ExpandContext& context) const {
  const fs::path& root = context.repoRoot();
  const std::string& dir = context.target().dir;
  const std::string& name = context.target().name;
  fs::path manifestFile = root / dir / "package.json";
  nlohmann::json manifest = readJsonFile(manifestFile);
  if (!declaresDependency(manifest, "astro")) {
    throw UsageError(manifestFile.string() + " does not list astro",
                     "run `npm install astro` in " + (root / dir).string() +
                         ", or use another plugin for this target");
  }

  StaticSiteConfig site;
  site.service = name;
  // NOTE: a port below 1024 is accepted, though nginx then fails to bind
  // in the image unless `image.user` is root.
  site.port = portOption(context, "port", 8080);
  site.root = context.string("root", site.root);
  if (site.root.empty() || site.root.front() != '/' ||
      site.root.find_first_of(" ;'\"{}") != std::string::npos) {
    throw context.optionError("root",
                              "'root' must be an absolute path "
                              "without spaces, quotes, ';' or braces",
                              "write a path such as /usr/share/nginx/html");
  }
  std::string outDir = relativePathOption(context, "out_dir", "dist");

  NpmProject project = findNpmProject(context, dir);
  std::vector<Step> steps;
  Step install = npmInstallStep(context, project);
  std::string installId = install.id;
  steps.push_back(std::move(install));

  Step config =
      context.makeStep(name + ":nginx-conf", "nginx configuration of " + name);
  config.kind = StepKind::kWriteFile;
  config.content = staticSiteNginxConfig(site);
  config.fileMode = 0644;
  config.outputs = {joinRelative(dir, kAstroNginxConfigPath)};
  steps.push_back(std::move(config));

  Step build = context.makeStep(name + ":build", "astro build " + name);
  build.argv = {"npm", "exec", "--no", "--", "astro", "build"};
  build.env["ASTRO_TELEMETRY_DISABLED"] = "1";
  build.tools = {"node", "npm"};
  for (const char* input :
       {"src/**", "public/**", "package.json", "astro.config.*",
        "tsconfig.json", ".env", ".env.production"}) {
    build.inputs.push_back(joinRelative(dir, input));
  }
  build.outputs = {joinRelative(dir, outDir)};
  build.deps = {installId};
  std::string buildId = build.id;
  std::string siteOutput = build.outputs.front();
  std::string configId = steps.back().id;
  std::string configOutput = steps.back().outputs.front();
  steps.push_back(std::move(build));
  if (!context.has("image")) {
    return steps;
  }
  ImageSpec image = imageDefaults(context, "${KILN_NGINX_BASE:-nginx:alpine}",
                                  "/", site.port);
  image.env.clear();  // nginx takes its port from the configuration
  image.cmd = {"nginx", "-g", "daemon off;"};
  image.setCmd = true;
  image.stopSignal = "SIGQUIT";
  image.layers.push_back({buildId, siteOutput, site.root});
  image.layers.push_back({configId, configOutput, "/etc/nginx/nginx.conf"});
  image = readImageOption(context, image);
  steps.push_back(makeImageStep(context, image));
  return steps;
}

}  // namespace kiln
