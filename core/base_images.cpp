#include "core/base_images.h"

#include <nlohmann/json.hpp>

#include "core/oci/errors.h"
#include "core/oci/reference.h"
#include "core/oci/registry.h"
#include "util/atomic_file.h"
#include "util/error.h"
#include "util/strings.h"

namespace kiln {

namespace fs = std::filesystem;

std::pair<std::string, bool> splitPlainHttp(const std::string& text) {
  const std::string prefix = "http://";
  if (startsWith(text, prefix)) {
    return {text.substr(prefix.size()), true};
  }
  return {text, false};
}

BaseImages::BaseImages(fs::path lockFile, fs::path storeDir)
    : lockFile_(std::move(lockFile)), storeDir_(std::move(storeDir)) {
  std::string text;
  if (!tryReadFile(lockFile_, &text)) {
    return;
  }
  try {
    nlohmann::json document = nlohmann::json::parse(text);
    for (const auto& [reference, digest] : document.at("bases").items()) {
      pins_[reference] = digest.get<std::string>();
    }
  } catch (const nlohmann::json::exception& error) {
    throw UsageError("cannot read " + lockFile_.string() + ": " + error.what(),
                     "fix the file, or delete it to resolve every base "
                     "image again");
  }
}

ResolvedBase BaseImages::resolve(const std::string& text,
                                 const fs::path& repoRoot) {
  if (oci::LayoutReference::matches(text)) {
    oci::LayoutReference reference = oci::LayoutReference::parse(text);
    fs::path dir =
        reference.dir.is_absolute() ? reference.dir : repoRoot / reference.dir;
    auto layout = std::make_shared<oci::Layout>(oci::Layout::open(dir));
    ResolvedBase base;
    base.image = layout->readImage(reference.name);
    base.layout = layout;
    base.name = text;
    return base;
  }
  return resolveRegistry(text);
}

ResolvedBase BaseImages::resolveRegistry(const std::string& text) {
  try {
    return pullRegistry(text);
  } catch (const oci::RegistryError& error) {
    if (error.failure() != oci::RegistryFailure::notFound) {
      throw;
    }
    throw UsageError("base image '" + text + "' not found: " + error.what(),
                     error.hint());
  }
}

ResolvedBase BaseImages::pullRegistry(const std::string& text) {
  std::lock_guard lock(mutex_);
  auto [referenceText, plainHttp] = splitPlainHttp(text);
  oci::Reference reference = oci::Reference::parse(referenceText);
  if (!store_) {
    store_ = std::make_shared<oci::Layout>(oci::Layout::create(storeDir_));
  }

  oci::RegistryOptions options;
  if (plainHttp) {
    options.plainHttpRegistries.push_back(reference.registry);
  }
  std::unique_ptr<oci::RegistryClient> client;
  auto registry = [&]() -> oci::RegistryClient& {
    if (!client) {
      client = std::make_unique<oci::RegistryClient>(options);
    }
    return *client;
  };

  // Pin: an explicit digest, else the lock file, else ask the registry.
  std::string digestText;
  if (reference.digest) {
    digestText = "sha256:" + reference.digest->hex();
  } else if (auto pinned = pins_.find(text); pinned != pins_.end()) {
    digestText = pinned->second;
  } else {
    oci::ResolvedManifest resolved = registry().resolve(reference);
    digestText = "sha256:" + resolved.descriptor.digest.hex();
    pins_[text] = digestText;
    dirty_ = true;
  }
  Digest digest;
  if (!startsWith(digestText, "sha256:") ||
      !Digest::parse(digestText.substr(7), &digest)) {
    throw UsageError("invalid pinned digest '" + digestText + "' for " + text +
                         " in " + lockFile_.string(),
                     "run 'kiln bases update' to pin it again");
  }

  std::string name = "sha256-" + digest.hex();
  if (!store_->findImage(name)) {
    oci::Reference pinned = reference;
    pinned.digest = digest;
    oci::pullToLayout(registry(), pinned, *store_, name);
  }
  ResolvedBase base;
  base.image = store_->readImage(name);
  base.layout = store_;
  base.name = reference.str();
  return base;
}

std::vector<std::string> BaseImages::update() {
  std::lock_guard lock(mutex_);
  std::vector<std::string> changes;
  for (auto& [text, digest] : pins_) {
    auto [referenceText, plainHttp] = splitPlainHttp(text);
    oci::Reference reference = oci::Reference::parse(referenceText);
    oci::RegistryOptions options;
    if (plainHttp) {
      options.plainHttpRegistries.push_back(reference.registry);
    }
    oci::RegistryClient client(options);
    std::string current =
        "sha256:" + client.resolve(reference).descriptor.digest.hex();
    if (current != digest) {
      changes.push_back(text + ": " + digest + " -> " + current);
      digest = current;
      dirty_ = true;
    }
  }
  return changes;
}

void BaseImages::save() {
  std::lock_guard lock(mutex_);
  if (!dirty_) {
    return;
  }
  nlohmann::json document = {{"version", 1}, {"bases", pins_}};
  writeFileAtomic(lockFile_, document.dump(2) + "\n");
  dirty_ = false;
}

}  // namespace kiln
