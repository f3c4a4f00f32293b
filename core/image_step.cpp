#include "core/image_step.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <nlohmann/json.hpp>

#include "core/oci/layer.h"
#include "core/outputs.h"
#include "core/repository.h"
#include "util/error.h"
#include "util/strings.h"

namespace kiln {

namespace fs = std::filesystem;

std::int64_t sourceDateEpoch() {
  const char* value = std::getenv("SOURCE_DATE_EPOCH");
  if (value == nullptr || *value == '\0') {
    return 0;
  }
  try {
    return std::stoll(value);
  } catch (const std::exception&) {
    throw UsageError(std::string("invalid SOURCE_DATE_EPOCH '") + value + "'",
                     "set it to a number of seconds since 1970, or unset it");
  }
}

/// What a layer will contain, and the key its result is cached under.
struct ImageBuilder::LayerPlan {
  fs::path source;  // absolute
  std::string destination;
  oci::LayerOptions options;
  unsigned uid = 0;
  unsigned gid = 0;
  std::string key;        // hex
  std::string createdBy;  // history text
};

ImageBuilder::ImageBuilder(fs::path layoutDir, std::int64_t mtime,
                           BaseImages& bases, LocalStore* store,
                           StatCache& statCache, BuildRecord& record)
    : layoutDir_(std::move(layoutDir)),
      mtime_(mtime),
      bases_(bases),
      store_(store),
      statCache_(statCache),
      record_(record) {}

oci::Layout& ImageBuilder::layout() {
  std::lock_guard lock(layoutMutex_);
  if (!layout_) {
    layout_ = std::make_unique<oci::Layout>(oci::Layout::create(layoutDir_));
  }
  return *layout_;
}

namespace {

// Rejects a relative symlink below `root` that leads out of it: in the
// image it would dangle, or point at something else.
void checkSymlinks(const fs::path& root, const TreeManifest& manifest,
                   const std::string& prefix) {
  for (const auto& entry : manifest.entries) {
    if (entry.type != EntryType::kSymlink || entry.target.front() == '/') {
      continue;
    }
    fs::path inside = fs::path(entry.path).lexically_relative(prefix);
    fs::path resolved =
        (inside.parent_path() / entry.target).lexically_normal();
    if (resolved.empty() || *resolved.begin() == "..") {
      throw UsageError(
          "symlink " + (root / entry.path).string() + " -> " + entry.target +
              " points outside " + (root / prefix).string(),
          "an image must not contain links to files it lacks; make the step "
          "copy the files (npm workspace links: resolve them into copies)");
    }
  }
}

oci::Compression parseCompression(const std::string& name) {
  if (name == "gzip") {
    return oci::Compression::gzip;
  }
  if (name == "zstd") {
    return oci::Compression::zstd;
  }
  throw UsageError("unknown image compression '" + name + "'",
                   "use gzip or zstd");
}

std::string layerRecord(const oci::LayerResult& layer) {
  return nlohmann::json{{"version", 1},
                        {"digest", layer.digest.hex()},
                        {"diff_id", layer.diffId.hex()},
                        {"size", layer.size},
                        {"uncompressed_size", layer.uncompressedSize},
                        {"media_type", layer.mediaType}}
      .dump();
}

bool parseLayerRecord(const std::string& text, oci::LayerResult* layer) {
  try {
    nlohmann::json json = nlohmann::json::parse(text);
    layer->size = json.at("size");
    layer->uncompressedSize = json.at("uncompressed_size");
    layer->mediaType = json.at("media_type");
    return json.at("version") == 1 &&
           Digest::parse(json.at("digest").get<std::string>(),
                         &layer->digest) &&
           Digest::parse(json.at("diff_id").get<std::string>(), &layer->diffId);
  } catch (const nlohmann::json::exception&) {
    return false;
  }
}

}  // namespace

std::string ImageBuilder::sourceDigest(const Step& step,
                                       const std::string& source) {
  std::string path = (step.repoRoot / source).string();
  {
    std::lock_guard lock(digestsMutex_);
    auto found = sourceDigests_.find(path);
    if (found != sourceDigests_.end()) {
      return found->second;
    }
  }
  OutputSnapshot snapshot =
      snapshotOutputs(step.repoRoot, {source}, statCache_);
  checkSymlinks(step.repoRoot, snapshot.manifest, source);
  std::string digest = snapshot.manifest.digest().hex();
  std::lock_guard lock(digestsMutex_);
  sourceDigests_[path] = digest;
  return digest;
}

ImageBuilder::LayerPlan ImageBuilder::planLayer(const Step& step,
                                                const ImageLayerSpec& spec,
                                                oci::Compression compression,
                                                const KnownSources& known) {
  LayerPlan plan;
  plan.source = step.repoRoot / spec.source;
  struct stat info;
  if (::lstat(plan.source.c_str(), &info) != 0) {
    throw UsageError("image " + step.image->name + ": layer source " +
                         plan.source.string() + " does not exist",
                     spec.step.empty()
                         ? "add the file to the repository"
                         : "check that step " + spec.step + " writes it");
  }
  auto found = known.find(plan.source.string());
  std::string contentDigest = found != known.end()
                                  ? found->second
                                  : sourceDigest(step, spec.source);
  plan.destination = oci::normalizeImagePath(spec.destination);
  plan.options.compression = compression;
  plan.options.mtime = mtime_;
  plan.uid = spec.uid;
  plan.gid = spec.gid;

  // The key names the content, not where the files are: two clones at
  // different paths share it.
  Sha256 key;
  key.update("kiln-layer-v1\n" + contentDigest + "\n" + spec.source + "\n" +
             plan.destination + "\n" + std::to_string(spec.uid) + ":" +
             std::to_string(spec.gid) + "\n" +
             std::string(oci::layerMediaType(compression)) + "\n" +
             std::to_string(mtime_) + "\n" +
             (S_ISDIR(info.st_mode) ? "dir" : "file"));
  plan.key = key.finish().hex();
  plan.createdBy = "kiln: " + spec.source + " -> /" + plan.destination;
  return plan;
}

oci::ImageLayer ImageBuilder::produceLayer(const LayerPlan& plan) {
  oci::Layout& out = layout();
  oci::LayerResult layer;
  bool known = false;
  if (store_ != nullptr) {
    if (auto record = store_->getAction(plan.key)) {
      known = parseLayerRecord(*record, &layer);
    }
  }
  if (known && !out.hasBlob(layer.digest) && store_ != nullptr &&
      store_->hasBlob(layer.digest)) {
    fs::path temporary = out.temporaryPath();
    int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
                    0644);
    bool copied =
        fd >= 0 && store_->readToFd(layer.digest, fd) == BlobRead::kOk;
    if (fd >= 0) {
      ::close(fd);
    }
    if (copied) {
      out.putBlobFile(temporary, layer.digest, true);
    } else {
      ::unlink(temporary.c_str());
    }
  }
  if (!known || !out.hasBlob(layer.digest)) {
    fs::path temporary = out.temporaryPath();
    struct stat info;
    ::lstat(plan.source.c_str(), &info);
    if (S_ISDIR(info.st_mode)) {
      layer = oci::writeDirectoryLayer(plan.source, plan.destination,
                                       plan.options, temporary);
    } else {
      oci::LayerEntry entry;
      entry.path = plan.destination;
      entry.source = plan.source;
      entry.mode = info.st_mode & 0777;
      entry.uid = plan.uid;
      entry.gid = plan.gid;
      layer = oci::writeLayer({entry}, plan.options, temporary);
    }
    // NOTE: layers go to the local cache only. The remote cache does not
    // carry them, so every CI runner compresses its own layers.
    if (store_ != nullptr) {
      store_->putFile(temporary, layer.digest);
      store_->putAction(plan.key, layerRecord(layer));
    }
    out.putBlobFile(temporary, layer.digest, true);
  }
  oci::ImageLayer result;
  result.descriptor = layer.descriptor();
  result.diffId = layer.diffId;
  result.createdBy = plan.createdBy;
  return result;
}

StepOutcome ImageBuilder::build(const Step& step, bool forced,
                                const KnownSources& known) {
  const ImageSpec& spec = *step.image;
  oci::Compression compression = parseCompression(spec.compression);

  std::optional<ResolvedBase> base;
  if (spec.base != "scratch" && !spec.base.empty()) {
    base = bases_.resolve(spec.base, step.repoRoot);
  }
  auto planLayers = [&](const KnownSources& sources) {
    std::vector<LayerPlan> planned;
    for (const auto& layer : spec.layers) {
      planned.push_back(planLayer(step, layer, compression, sources));
    }
    return planned;
  };
  std::vector<LayerPlan> plans = planLayers(known);

  oci::ImageSpec image;
  image.created = mtime_;
  image.config.env = spec.env;
  if (spec.setEntrypoint) {
    image.config.entrypoint = spec.entrypoint;
  }
  if (spec.setCmd) {
    image.config.cmd = spec.cmd;
  }
  if (!spec.workingDir.empty()) {
    image.config.workingDir = spec.workingDir;
  }
  if (!spec.user.empty()) {
    image.config.user = spec.user;
  }
  if (!spec.stopSignal.empty()) {
    image.config.stopSignal = spec.stopSignal;
  }
  image.config.exposedPorts = spec.exposedPorts;
  image.config.labels = spec.labels;
  if (base) {
    image.base =
        oci::BaseImage{base->image.manifest, base->image.config, base->name};
  }

  // The image key covers everything the image is made of, so an image whose
  // layers' sources did not change is found up to date without compressing.
  auto imageKeyOf = [&](const std::vector<LayerPlan>& layers) {
  Sha256 key;
  key.update("kiln-image-v1\n");
  key.update(base ? base->image.manifestDescriptor.digest.hex() : "scratch");
  for (const auto& plan : layers) {
    key.update("\nlayer " + plan.key);
  }
  nlohmann::json config = {{"env", spec.env},
                           {"entrypoint", spec.entrypoint},
                           {"set_entrypoint", spec.setEntrypoint},
                           {"cmd", spec.cmd},
                           {"set_cmd", spec.setCmd},
                           {"workdir", spec.workingDir},
                           {"user", spec.user},
                           {"ports", spec.exposedPorts},
                           {"labels", spec.labels},
                           {"stop_signal", spec.stopSignal},
                           {"mtime", mtime_}};
  key.update("\nconfig " + config.dump());
  return key.finish().hex();
  };
  std::string imageKey = imageKeyOf(plans);

  std::optional<StepRecord> prior = record_.find(step.id);
  auto upToDate = [&]() -> std::optional<StepOutcome> {
    if (forced || !prior || prior->key != imageKey) {
      return std::nullopt;
    }
    std::optional<oci::Descriptor> current = layout().findImage(spec.name);
    if (!current || current->digest.hex() != prior->outputDigest) {
      return std::nullopt;
    }
    StepOutcome outcome = StepOutcome::of(StepStatus::kUpToDate);
    outcome.actionKey = imageKey;
    outcome.outputDigest = prior->outputDigest;
    outcome.outputBytes = prior->outputBytes;
    return outcome;
  };
  if (auto outcome = upToDate()) {
    return *outcome;
  }
  if (!known.empty()) {
    // Walk the sources now: it checks their symlinks before anything is
    // written. The digests match the known ones unless a restore left a
    // source different from its manifest, so check again.
    plans = planLayers({});
    imageKey = imageKeyOf(plans);
    if (auto outcome = upToDate()) {
      return *outcome;
    }
  }

  oci::Layout& out = layout();
  for (const auto& plan : plans) {
    image.layers.push_back(produceLayer(plan));
  }
  if (base) {
    out.copyImageBlobsFrom(*base->layout, base->image);
  }
  oci::AssembledImage assembled = oci::assembleImage(image);
  out.putBlob(assembled.config);
  out.putBlob(assembled.manifest);
  out.setImage(spec.name, assembled.manifestDescriptor);

  std::uint64_t bytes = static_cast<std::uint64_t>(
      assembled.configDescriptor.size + assembled.manifestDescriptor.size);
  for (const auto& layer : assembled.layers) {
    bytes += static_cast<std::uint64_t>(layer.size);
  }
  StepRecord record;
  record.key = imageKey;
  record.outputDigest = assembled.manifestDescriptor.digest.hex();
  record.outputBytes = bytes;
  record_.update(step.id, record);

  StepOutcome outcome = StepOutcome::of(StepStatus::kBuilt);
  outcome.actionKey = imageKey;
  outcome.outputDigest = record.outputDigest;
  outcome.outputBytes = bytes;
  return outcome;
}

}  // namespace kiln
