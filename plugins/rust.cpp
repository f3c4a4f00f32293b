#include "plugins/rust.h"

#include "plugins/image_options.h"

#include <algorithm>
#include <set>

#include "plugins/cargo_manifest.h"
#include "plugins/project_files.h"
#include "util/error.h"
#include "util/strings.h"

namespace kiln {

namespace fs = std::filesystem;

namespace {

CargoManifest readManifest(const fs::path& file) {
  std::optional<std::string> text = readProjectFile(file);
  if (!text) {
    throw UsageError(file.string() + " not found or not readable",
                     "point the target's 'dir' at a crate directory (the "
                     "one with Cargo.toml)");
  }
  return parseCargoManifest(*text);
}

// The directory of the cargo workspace that contains `crateDir`: the
// nearest ancestor whose Cargo.toml has a [workspace] table, else the crate.
std::string workspaceRootOf(const fs::path& root, const std::string& crateDir) {
  std::string current = crateDir;
  while (!current.empty()) {
    current = parentRelative(current);
    fs::path manifest = root / current / "Cargo.toml";
    if (fs::exists(manifest) && readManifest(manifest).isWorkspace) {
      return current;
    }
  }
  return crateDir;
}

// Binary targets of a crate: [[bin]] tables, then Cargo's automatic ones
// (src/main.rs named after the package, src/bin/NAME.rs, src/bin/NAME/).
std::vector<CargoBin> binaries(const fs::path& crateRoot,
                               const CargoManifest& manifest) {
  std::vector<CargoBin> bins = manifest.bins;
  auto known = [&](const std::string& name) {
    return std::any_of(bins.begin(), bins.end(),
                       [&](const CargoBin& bin) { return bin.name == name; });
  };
  if (!manifest.autobins) {
    return bins;
  }
  if (fs::exists(crateRoot / "src/main.rs") && !known(manifest.packageName)) {
    bins.push_back({manifest.packageName, ""});
  }
  std::error_code error;
  std::vector<std::string> found;
  for (const auto& entry :
       fs::directory_iterator(crateRoot / "src/bin", error)) {
    fs::path path = entry.path();
    if (path.extension() == ".rs") {
      found.push_back(path.stem().string());
    } else if (isDirectory(path) && fs::exists(path / "main.rs")) {
      found.push_back(path.filename().string());
    }
  }
  std::sort(found.begin(), found.end());
  for (const auto& name : found) {
    if (!known(name)) {
      bins.push_back({name, ""});
    }
  }
  return bins;
}

std::string chooseBinary(const ExpandContext& context,
                         const fs::path& manifestFile,
                         const CargoManifest& manifest,
                         const std::vector<CargoBin>& bins) {
  std::vector<std::string> names;
  for (const auto& bin : bins) {
    names.push_back(bin.name);
  }
  if (context.has("bin")) {
    std::string wanted = context.string("bin");
    if (std::find(names.begin(), names.end(), wanted) == names.end()) {
      throw context.optionError(
          "bin",
          "crate '" + manifest.packageName + "' has no binary '" + wanted +
              "' (" + manifestFile.string() + ")",
          names.empty() ? "add src/main.rs or a [[bin]] table"
                        : "use one of: " + join(names, ", "));
    }
    return wanted;
  }
  if (names.empty()) {
    throw UsageError(manifestFile.string() + " declares no binary target",
                     "add src/main.rs or a [[bin]] table to crate '" +
                         manifest.packageName + "'");
  }
  if (names.size() == 1) {
    return names.front();
  }
  if (std::find(names.begin(), names.end(), manifest.packageName) !=
      names.end()) {
    return manifest.packageName;
  }
  throw context.optionError("bin",
                            "crate '" + manifest.packageName +
                                "' has several binaries: " + join(names, ", "),
                            "set 'bin' to the one this target builds");
}

// Adds a crate's sources and manifest to `inputs`, then those of its path
// dependencies, each once.
void addCrateInputs(const fs::path& root, const std::string& crateDir,
                    const std::string& workspaceDir,
                    const CargoManifest& workspace,
                    std::set<std::string>& visited,
                    std::vector<std::string>& inputs) {
  std::string normal = fs::path(crateDir).lexically_normal().generic_string();
  if (!visited.insert(normal).second) {
    return;
  }
  inputs.push_back(joinRelative(normal, "Cargo.toml"));
  inputs.push_back(joinRelative(normal, "build.rs"));
  inputs.push_back(joinRelative(normal, "src/**"));
  CargoManifest manifest = readManifest(root / normal / "Cargo.toml");
  for (const auto& bin : manifest.bins) {
    if (!bin.path.empty() && !startsWith(bin.path, "src/")) {
      inputs.push_back(joinRelative(normal, bin.path));
    }
  }
  std::vector<std::string> dependencies;
  for (const auto& path : manifest.pathDependencies) {
    dependencies.push_back(joinRelative(normal, path));
  }
  for (const auto& name : manifest.workspaceDependencies) {
    auto found = workspace.workspacePathDependencies.find(name);
    if (found != workspace.workspacePathDependencies.end()) {
      dependencies.push_back(joinRelative(workspaceDir, found->second));
    }
  }
  for (const auto& dependency : dependencies) {
    std::string path = fs::path(dependency).lexically_normal().generic_string();
    if (startsWith(path, "..") || !fs::exists(root / path / "Cargo.toml")) {
      continue;  // outside the repository, or missing: cargo reports it
    }
    addCrateInputs(root, path, workspaceDir, workspace, visited, inputs);
  }
}

}  // namespace

std::string RustPlugin::summary() const {
  return "builds one release binary of a cargo crate";
}

std::vector<OptionSpec> RustPlugin::options() const {
  return {
      {"bin", OptionType::kString, false, "binary target to build",
       "the crate's only binary, or the one named after the package"},
      {"features", OptionType::kStringList, false,
       "cargo features to enable (--features)", "none"},
      {"port", OptionType::kInteger, false,
       "port the service listens on in its image (PORT)",
       "the service's own default"},
      imageOptionSpec("the binary as /usr/local/bin/NAME on "
                      "${KILN_GLIBC_BASE:-gcr.io/distroless/cc-debian12}"),
  };
}

std::vector<Step> RustPlugin::expand(const ExpandContext& context) const {
  int port = context.has("port") ? portOption(context, "port", 8080) : 0;
  const fs::path& root = context.repoRoot();
  const std::string& crateDir = context.target().dir;
  fs::path manifestFile = root / crateDir / "Cargo.toml";
  CargoManifest manifest = readManifest(manifestFile);
  if (!manifest.hasPackage) {
    throw UsageError(manifestFile.string() + " has no [package] table",
                     "point the target's 'dir' at a member crate, not at "
                     "the workspace root");
  }
  std::string bin = chooseBinary(context, manifestFile, manifest,
                                 binaries(root / crateDir, manifest));

  std::string workspaceDir = workspaceRootOf(root, crateDir);
  fs::path lockfile = root / workspaceDir / "Cargo.lock";
  if (!fs::exists(lockfile)) {
    throw UsageError(lockfile.string() +
                         " not found: `cargo build "
                         "--locked` needs it",
                     "run `cargo generate-lockfile` in " +
                         (root / workspaceDir).string() +
                         ", then commit Cargo.lock");
  }

  // Cargo reads .cargo/config.toml in the working directory and every
  // directory above it; the repository part of that chain is input.
  std::string target;
  std::vector<std::string> configInputs;
  std::string current = workspaceDir;
  while (true) {
    for (const char* name : {".cargo/config.toml", ".cargo/config",
                             "rust-toolchain", "rust-toolchain.toml"}) {
      configInputs.push_back(joinRelative(current, name));
    }
    for (const char* name : {".cargo/config.toml", ".cargo/config"}) {
      std::optional<std::string> text = readProjectFile(root / current / name);
      if (text && target.empty()) {
        target = cargoBuildTarget(*text);
      }
    }
    if (current.empty()) {
      break;
    }
    current = parentRelative(current);
  }

  std::string built = target.empty() ? "target/release/" + bin
                                     : "target/" + target + "/release/" + bin;
  std::string command = "cargo build --release --locked --offline -p " +
                        shellQuote(manifest.packageName) + " --bin " +
                        shellQuote(bin);
  std::vector<std::string> features = context.stringList("features");
  if (!features.empty()) {
    command += " --features " + shellQuote(join(features, ","));
  }
  std::string partial = "target/kiln/." + bin + ".partial";
  command += " && mkdir -p target/kiln && cp " + shellQuote(built) + " " +
             shellQuote(partial) + " && mv -f " + shellQuote(partial) + " " +
             shellQuote("target/kiln/" + bin);

  Step step =
      context.makeStep(context.target().name + ":build", "cargo build " + bin);
  step.workingDir = workspaceDir;
  step.argv = {"/bin/sh", "-c", command};
  // An explicit target directory overrides a build.target-dir in a cargo
  // configuration, so the copy above finds the binary.
  step.env["CARGO_TARGET_DIR"] = "target";
  step.env["CARGO_TERM_COLOR"] = "never";
  step.tools = {"cargo", "rustc", "sh"};

  std::set<std::string> visited;
  CargoManifest workspace =
      workspaceDir == crateDir
          ? manifest
          : readManifest(root / workspaceDir / "Cargo.toml");
  addCrateInputs(root, crateDir, workspaceDir, workspace, visited, step.inputs);
  step.inputs.push_back(joinRelative(workspaceDir, "Cargo.toml"));
  step.inputs.push_back(joinRelative(workspaceDir, "Cargo.lock"));
  step.inputs.insert(step.inputs.end(), configInputs.begin(),
                     configInputs.end());
  std::sort(step.inputs.begin(), step.inputs.end());
  step.inputs.erase(std::unique(step.inputs.begin(), step.inputs.end()),
                    step.inputs.end());
  step.outputs = {joinRelative(workspaceDir, "target/kiln/" + bin)};
  if (!context.has("image")) {
    return {step};
  }
  ImageSpec image = imageDefaults(
      context, "${KILN_GLIBC_BASE:-gcr.io/distroless/cc-debian12}", "/", port);
  image.entrypoint = {"/usr/local/bin/" + bin};
  image.setEntrypoint = true;
  image.layers = {{step.id, step.outputs.front(), "/usr/local/bin/" + bin}};
  image = readImageOption(context, image);
  return {step, makeImageStep(context, image)};
}

}  // namespace kiln
