#include "cli/image_files.h"

#include <cstdio>
#include <nlohmann/json.hpp>
#include <set>

#include "cache/local_store.h"
#include "cli/exit_codes.h"
#include "core/image_step.h"
#include "core/oci/archive.h"
#include "core/oci/reference.h"
#include "core/oci/registry.h"
#include "util/atomic_file.h"
#include "util/error.h"
#include "util/strings.h"

namespace kiln {

namespace fs = std::filesystem;

namespace {

// One line of kiln-images.lock.json.
struct LockedImage {
  std::string target;
  std::string name;
  std::string tag;
  std::string service;
  std::string reference;  // without the digest
  std::string digest;     // sha256:...
  std::uint64_t size = 0;
};

fs::path lockPath(const fs::path& dir) {
  return dir / "kiln-images.lock.json";
}

std::map<std::string, LockedImage> readLock(const fs::path& dir) {
  std::map<std::string, LockedImage> images;
  std::string text;
  if (!tryReadFile(lockPath(dir), &text)) {
    return images;
  }
  try {
    nlohmann::json document = nlohmann::json::parse(text);
    for (const auto& item : document.at("images")) {
      LockedImage image;
      image.target = item.at("target");
      image.name = item.at("name");
      image.tag = item.at("tag");
      image.service = item.at("service");
      image.reference = item.at("image");
      image.digest = item.at("digest");
      image.size = item.at("size");
      images[image.name] = image;
    }
  } catch (const nlohmann::json::exception&) {
    images.clear();  // rewritten below from this build's images
  }
  return images;
}

// Leaves a file alone when it already has the content, so a no-op build
// rewrites nothing.
bool writeIfChanged(const fs::path& path, const std::string& content) {
  std::string current;
  if (tryReadFile(path, &current) && current == content) {
    return false;
  }
  writeFileAtomic(path, content);
  return true;
}

// Returns true if either file changed.
bool writeLockAndOverride(const fs::path& dir,
                          const std::map<std::string, LockedImage>& images) {
  nlohmann::json items = nlohmann::json::array();
  std::string compose =
      "# Written by kiln: pins each service's image by digest.\n"
      "# docker compose -f docker-compose-staging.yaml -f THIS_FILE up\n"
      "services:\n";
  for (const auto& [name, image] : images) {
    items.push_back({{"target", image.target},
                     {"name", image.name},
                     {"tag", image.tag},
                     {"service", image.service},
                     {"image", image.reference},
                     {"digest", image.digest},
                     {"size", image.size}});
    compose += "  " + image.service + ":\n    image: \"" + image.reference +
               "@" + image.digest + "\"\n";
  }
  bool lockChanged = writeIfChanged(
      lockPath(dir),
      nlohmann::json{{"version", 1}, {"images", items}}.dump(2) + "\n");
  bool composeChanged = writeIfChanged(dir / "compose.override.yaml", compose);
  return lockChanged || composeChanged;
}

}  // namespace

fs::path imageOutputDir(const Session& session,
                        const ImageOutputOptions& options) {
  return options.dir.empty() ? session.workspace.stateDir / "images"
                             : fs::absolute(options.dir);
}

std::unique_ptr<BaseImages> openBaseImages(const Session& session) {
  fs::path pipelineDir = fs::absolute(session.pipeline.file).parent_path();
  return std::make_unique<BaseImages>(pipelineDir / "kiln-bases.lock.json",
                                      LocalStore::defaultDir() / "bases");
}

std::vector<fs::path> writeImageFiles(const Session& session,
                                      const std::vector<bool>& selected,
                                      const std::vector<StepOutcome>& outcomes,
                                      const ImageOutputOptions& options) {
  const BuildGraph& graph = session.graph;
  fs::path dir = imageOutputDir(session, options);
  std::map<std::string, LockedImage> images = readLock(dir);
  std::vector<std::string> built;
  std::set<std::string> changed;
  for (std::size_t i = 0; i < graph.size(); ++i) {
    const Step& step = graph.step(i);
    if (!selected[i] || step.kind != StepKind::kImage ||
        !isSuccess(outcomes[i].status)) {
      continue;
    }
    const ImageSpec& spec = *step.image;
    LockedImage image;
    image.target = step.target;
    image.name = spec.name;
    image.tag = spec.tag;
    image.service =
        spec.composeService.empty() ? spec.name : spec.composeService;
    image.reference = oci::dockerRepoTag(spec.name, spec.tag);
    image.digest = "sha256:" + outcomes[i].outputDigest;
    image.size = outcomes[i].outputBytes;
    auto locked = images.find(spec.name);
    if (locked != images.end() && locked->second.digest == image.digest) {
      // The same image, maybe pushed since: keep the registry reference
      // that `kiln push` wrote.
      image.reference = locked->second.reference;
    }
    images[spec.name] = image;
    built.push_back(spec.name);
    if (outcomes[i].status == StepStatus::kBuilt) {
      changed.insert(spec.name);
    }
  }
  std::vector<fs::path> written;
  if (built.empty()) {
    return written;
  }
  if (writeLockAndOverride(dir, images)) {
    written = {lockPath(dir), dir / "compose.override.yaml"};
  }

  oci::Layout layout = oci::Layout::open(dir / "layout");
  std::int64_t mtime = sourceDateEpoch();
  // An archive is rewritten only when its image changed or it is missing.
  auto archive = [&](const std::string& name, const std::string& suffix,
                     const auto& write) {
    fs::path file = dir / "archives" / (name + suffix);
    if (changed.count(name) == 0 && fs::exists(file)) {
      return;
    }
    fs::create_directories(file.parent_path());
    write(file);
    written.push_back(file);
  };
  for (const auto& name : built) {
    if (options.ociArchive) {
      archive(name, ".oci.tar", [&](const fs::path& file) {
        oci::writeOciArchive(layout, name, file, mtime);
      });
    }
    if (options.dockerArchive) {
      archive(name, ".docker.tar", [&](const fs::path& file) {
        oci::writeDockerArchive(layout, name, images[name].tag, file, mtime);
      });
    }
  }
  return written;
}

int runPush(const Session& session, const std::string& destination,
            const ImageOutputOptions& options) {
  fs::path dir = imageOutputDir(session, options);
  std::map<std::string, LockedImage> images = readLock(dir);
  if (images.empty()) {
    throw UsageError("no built images in " + dir.string(),
                     "run 'kiln build' first (with the same --out)");
  }
  auto [prefix, plainHttp] = splitPlainHttp(destination);
  while (!prefix.empty() && prefix.back() == '/') {
    prefix.pop_back();
  }
  oci::Layout layout = oci::Layout::open(dir / "layout");
  oci::RegistryOptions registryOptions;
  std::unique_ptr<oci::RegistryClient> client;
  for (auto& [name, image] : images) {
    oci::Reference target =
        oci::Reference::parse(prefix + "/" + name + ":" + image.tag);
    if (!client) {
      if (plainHttp) {
        registryOptions.plainHttpRegistries.push_back(target.registry);
      }
      client = std::make_unique<oci::RegistryClient>(registryOptions);
    }
    oci::PushResult pushed = client->push(layout, name, target);
    std::printf("%s (%s)\n", pushed.reference.c_str(),
                oci::describeBlobs(pushed).c_str());
    image.reference = target.name() + ":" + image.tag;
    image.digest = "sha256:" + pushed.digest.hex();
  }
  writeLockAndOverride(dir, images);
  return kExitSuccess;
}

int runBasesUpdate(const Session& session) {
  std::unique_ptr<BaseImages> bases = openBaseImages(session);
  std::vector<std::string> changes = bases->update();
  bases->save();
  for (const auto& change : changes) {
    std::printf("%s\n", change.c_str());
  }
  std::printf("%zu base image pins changed\n", changes.size());
  return kExitSuccess;
}

}  // namespace kiln
