#include "core/oci/layout.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <nlohmann/json.hpp>
#include <regex>
#include <system_error>

#include "core/oci/errors.h"
#include "util/atomic_file.h"
#include "util/strings.h"

namespace kiln::oci {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr const char* kLayoutFile = "oci-layout";
constexpr const char* kIndexFile = "index.json";
constexpr const char* kLayoutVersion = "{\"imageLayoutVersion\":\"1.0.0\"}";

// Holds an exclusive flock(2) on a directory while index.json changes.
class DirectoryLock {
 public:
  explicit DirectoryLock(const fs::path& dir) {
    fd_ = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd_ < 0) {
      throw std::system_error(errno, std::generic_category(),
                              "cannot open " + dir.string());
    }
    while (::flock(fd_, LOCK_EX) != 0) {
      if (errno != EINTR) {
        int error = errno;
        ::close(fd_);
        throw std::system_error(error, std::generic_category(),
                                "cannot lock " + dir.string());
      }
    }
  }
  ~DirectoryLock() { ::close(fd_); }
  DirectoryLock(const DirectoryLock&) = delete;
  DirectoryLock& operator=(const DirectoryLock&) = delete;

 private:
  int fd_ = -1;
};

std::string refName(const Descriptor& descriptor) {
  auto it = descriptor.annotations.find(std::string(kRefNameAnnotation));
  return it == descriptor.annotations.end() ? std::string() : it->second;
}

// Streams a blob into a temporary file in blobs/sha256 and renames it into
// place once its digest and size are checked.
class LayoutBlobWriter : public BlobWriter {
 public:
  LayoutBlobWriter(const Layout& layout, Descriptor expected)
      : expected_(std::move(expected)),
        target_(layout.blobPath(expected_.digest)),
        temporary_(temporaryPathFor(target_)) {
    fd_ = ::open(temporary_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
                 0644);
    if (fd_ < 0) {
      throw std::system_error(errno, std::generic_category(),
                              "cannot create " + temporary_.string());
    }
  }

  ~LayoutBlobWriter() override {
    if (fd_ >= 0) {
      ::close(fd_);
    }
    if (!committed_) {
      ::unlink(temporary_.c_str());
    }
  }

  void write(const char* data, std::size_t size) override {
    hasher_.update(data, size);
    size_ += static_cast<std::int64_t>(size);
    while (size > 0) {
      ssize_t count = ::write(fd_, data, size);
      if (count < 0 && errno == EINTR) {
        continue;
      }
      if (count < 0) {
        throw std::system_error(errno, std::generic_category(),
                                "cannot write " + temporary_.string());
      }
      data += count;
      size -= static_cast<std::size_t>(count);
    }
  }

  void commit() override {
    Digest actual = hasher_.finish();
    if (actual != expected_.digest) {
      throw DigestMismatchError("blob content does not match its digest",
                                digestString(expected_.digest),
                                digestString(actual));
    }
    if (size_ != expected_.size) {
      throw std::runtime_error("blob " + digestString(expected_.digest) +
                               " has " + std::to_string(size_) +
                               " bytes, but its descriptor says " +
                               std::to_string(expected_.size));
    }
    int fd = std::exchange(fd_, -1);
    if (::fsync(fd) != 0 || ::close(fd) != 0) {
      throw std::system_error(errno, std::generic_category(),
                              "cannot write " + temporary_.string());
    }
    if (::rename(temporary_.c_str(), target_.c_str()) != 0) {
      throw std::system_error(errno, std::generic_category(),
                              "cannot rename into " + target_.string());
    }
    committed_ = true;
  }

 private:
  Descriptor expected_;
  fs::path target_;
  fs::path temporary_;
  int fd_ = -1;
  Sha256 hasher_;
  std::int64_t size_ = 0;
  bool committed_ = false;
};

}  // namespace

void validateImageName(std::string_view name) {
  // ref.name grammar of the OCI image specification, annotations section.
  static const std::regex kGrammar(
      "[A-Za-z0-9]+(([-._:@+]|--)[A-Za-z0-9]+)*"
      "(/[A-Za-z0-9]+(([-._:@+]|--)[A-Za-z0-9]+)*)*");
  if (!std::regex_match(name.begin(), name.end(), kGrammar)) {
    throw UsageError("invalid image name '" + std::string(name) + "'",
                     "use letters, digits and single '.', '_', '-', ':', "
                     "'@' or '+' between them, such as 'auth' or "
                     "'gateway-1.2'");
  }
}

Layout Layout::create(const fs::path& dir) {
  std::error_code error;
  if (fs::exists(dir / kLayoutFile, error)) {
    return open(dir);
  }
  fs::create_directories(dir);
  // Another process may be creating the same layout; the lock makes one of
  // them write the empty index and the other see the finished layout.
  DirectoryLock lock(dir);
  if (fs::exists(dir / kLayoutFile, error)) {
    return open(dir);
  }
  if (!fs::is_empty(dir, error)) {
    throw UsageError(dir.string() +
                         " is not an OCI image layout and is not "
                         "empty",
                     "choose a new or empty folder for the layout");
  }
  fs::create_directories(dir / "blobs" / "sha256");
  writeFileAtomic(dir / kIndexFile,
                  canonicalJson({{"schemaVersion", 2},
                                 {"mediaType", media::kOciIndex},
                                 {"manifests", json::array()}}));
  // oci-layout last: its presence marks a complete layout.
  writeFileAtomic(dir / kLayoutFile, kLayoutVersion);
  return Layout(dir);
}

Layout Layout::open(const fs::path& dir) {
  std::string marker;
  if (!tryReadFile(dir / kLayoutFile, &marker) ||
      !fs::exists(dir / kIndexFile)) {
    throw UsageError(dir.string() + " is not an OCI image layout (no " +
                         kLayoutFile + " or " + kIndexFile + " file)",
                     "check the path, or create the layout with "
                     "`skopeo copy ... oci:DIR:NAME`");
  }
  json version = parseJson(marker, (dir / kLayoutFile).string());
  if (version.value("imageLayoutVersion", "") != "1.0.0") {
    throw UsageError(dir.string() + " has an unsupported imageLayoutVersion",
                     "kiln reads OCI image layouts of version 1.0.0");
  }
  return Layout(dir);
}

fs::path Layout::blobPath(const Digest& digest) const {
  return dir_ / "blobs" / "sha256" / digest.hex();
}

bool Layout::hasBlob(const Digest& digest) const {
  std::error_code error;
  return fs::is_regular_file(blobPath(digest), error);
}

fs::path Layout::temporaryPath() const {
  fs::create_directories(dir_ / "blobs" / "sha256");
  return temporaryPathFor(dir_ / "blobs" / "sha256" / "new");
}

Digest Layout::putBlob(std::string_view bytes) {
  Digest digest = sha256(bytes);
  if (!hasBlob(digest)) {
    writeFileAtomic(blobPath(digest), bytes);
  }
  return digest;
}

void Layout::putBlobFile(const fs::path& file, const Digest& digest,
                         bool move) {
  Digest actual = sha256File(file);
  if (actual != digest) {
    throw DigestMismatchError(file.string() + " does not match its digest",
                              digestString(digest), digestString(actual));
  }
  fs::path target = blobPath(digest);
  if (hasBlob(digest)) {
    if (move) {
      fs::remove(file);
    }
    return;
  }
  fs::create_directories(target.parent_path());
  if (move && ::rename(file.c_str(), target.c_str()) == 0) {
    return;
  }
  if (move && errno != EXDEV) {
    throw std::system_error(
        errno, std::generic_category(),
        "cannot rename " + file.string() + " into " + target.string());
  }
  fs::path temporary = temporaryPathFor(target);
  fs::copy_file(file, temporary);
  if (::rename(temporary.c_str(), target.c_str()) != 0) {
    int error = errno;
    fs::remove(temporary);
    throw std::system_error(error, std::generic_category(),
                            "cannot rename into " + target.string());
  }
  if (move) {
    fs::remove(file);
  }
}

std::string Layout::readBlob(const Digest& digest) const {
  std::string content;
  if (!tryReadFile(blobPath(digest), &content)) {
    throw std::runtime_error("blob " + digestString(digest) +
                             " is missing from the image layout " +
                             dir_.string());
  }
  Digest actual = sha256(content);
  if (actual != digest) {
    throw DigestMismatchError(
        "blob " + blobPath(digest).string() + " does not match its digest",
        digestString(digest), digestString(actual));
  }
  return content;
}

void Layout::verifyBlob(const Digest& digest) const {
  if (!hasBlob(digest)) {
    throw std::runtime_error("blob " + digestString(digest) +
                             " is missing from the image layout " +
                             dir_.string());
  }
  Digest actual = sha256File(blobPath(digest));
  if (actual != digest) {
    throw DigestMismatchError(
        "blob " + blobPath(digest).string() + " does not match its digest",
        digestString(digest), digestString(actual));
  }
}

void Layout::copyBlobFrom(const Layout& source, const Digest& digest) {
  if (hasBlob(digest)) {
    return;
  }
  if (!source.hasBlob(digest)) {
    throw std::runtime_error("blob " + digestString(digest) +
                             " is missing from the image layout " +
                             source.dir().string());
  }
  putBlobFile(source.blobPath(digest), digest, false);
}

void Layout::copyImageBlobsFrom(const Layout& source,
                                const StoredImage& image) {
  copyBlobFrom(source, image.configDescriptor.digest);
  for (const auto& layer : image.layers) {
    copyBlobFrom(source, layer.digest);
  }
}

bool LayoutReference::matches(std::string_view text) {
  return startsWith(text, "oci:");
}

LayoutReference LayoutReference::parse(std::string_view text) {
  std::string_view rest = text.substr(matches(text) ? 4 : 0);
  std::size_t colon = rest.find(':');
  if (!matches(text) || colon == std::string_view::npos || colon == 0 ||
      colon + 1 == rest.size()) {
    throw UsageError(
        "invalid local image reference '" + std::string(text) + "'",
        "write it as oci:DIR:NAME, such as oci:build/bases:node20");
  }
  LayoutReference reference;
  reference.dir = std::string(rest.substr(0, colon));
  reference.name = std::string(rest.substr(colon + 1));
  return reference;
}

std::unique_ptr<BlobWriter> Layout::openBlob(const Descriptor& descriptor) {
  fs::create_directories(dir_ / "blobs" / "sha256");
  return std::make_unique<LayoutBlobWriter>(*this, descriptor);
}

std::vector<Descriptor> Layout::readIndex() const {
  std::string text = readFile(dir_ / kIndexFile);
  json index = parseJson(text, (dir_ / kIndexFile).string());
  std::vector<Descriptor> manifests;
  if (index.contains("manifests") && index["manifests"].is_array()) {
    for (const auto& entry : index["manifests"]) {
      manifests.push_back(Descriptor::fromJson(entry));
    }
  }
  return manifests;
}

void Layout::setImage(std::string_view name, const Descriptor& manifest) {
  validateImageName(name);
  if (!hasBlob(manifest.digest)) {
    throw std::runtime_error("cannot name " + digestString(manifest.digest) +
                             " '" + std::string(name) +
                             "': the manifest is not stored in " +
                             dir_.string());
  }
  DirectoryLock lock(dir_);
  std::vector<Descriptor> manifests = readIndex();
  std::erase_if(manifests, [&](const Descriptor& entry) {
    return refName(entry) == name;
  });
  Descriptor entry = manifest;
  entry.annotations[std::string(kRefNameAnnotation)] = std::string(name);
  manifests.push_back(std::move(entry));
  // Unnamed entries first, in their old order, then named ones by name.
  std::stable_sort(manifests.begin(), manifests.end(),
                   [](const Descriptor& a, const Descriptor& b) {
                     return refName(a) < refName(b);
                   });
  json list = json::array();
  for (const auto& descriptor : manifests) {
    list.push_back(descriptor.toJson());
  }
  writeFileAtomic(dir_ / kIndexFile,
                  canonicalJson({{"schemaVersion", 2},
                                 {"mediaType", media::kOciIndex},
                                 {"manifests", list}}));
}

std::optional<Descriptor> Layout::findImage(std::string_view name) const {
  for (const auto& entry : readIndex()) {
    if (refName(entry) == name) {
      return entry;
    }
  }
  return std::nullopt;
}

std::vector<std::string> Layout::imageNames() const {
  std::vector<std::string> names;
  for (const auto& entry : readIndex()) {
    if (std::string name = refName(entry); !name.empty()) {
      names.push_back(name);
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

StoredImage Layout::readImage(std::string_view name) const {
  std::optional<Descriptor> entry = findImage(name);
  if (!entry) {
    std::vector<std::string> names = imageNames();
    std::string hint = names.empty() ? "the layout has no named images"
                                     : suggestion(name, names);
    throw UsageError("image '" + std::string(name) +
                         "' not found in the image layout " + dir_.string(),
                     hint);
  }
  return readImage(*entry);
}

StoredImage Layout::readImage(const Descriptor& descriptor) const {
  Descriptor current = descriptor;
  // An index may point at another index; two levels are plenty in practice.
  for (int depth = 0; depth < 3 && isIndexMediaType(current.mediaType);
       ++depth) {
    json index = parseJson(readBlob(current.digest), "an image index");
    std::vector<Descriptor> manifests;
    for (const auto& entry : index.value("manifests", json::array())) {
      manifests.push_back(Descriptor::fromJson(entry));
    }
    std::optional<Descriptor> selected = selectLinuxAmd64(manifests);
    if (!selected) {
      throw UsageError("the image index " + digestString(current.digest) +
                           " in " + dir_.string() +
                           " has no linux/amd64 image (it has: " +
                           describePlatforms(manifests) + ")",
                       "use an image that has a linux/amd64 variant");
    }
    current = *selected;
  }

  if (!isManifestMediaType(current.mediaType)) {
    throw std::runtime_error("unsupported manifest media type '" +
                             current.mediaType + "' in " + dir_.string());
  }

  StoredImage image;
  image.manifestDescriptor = current;
  image.manifest = readBlob(current.digest);
  json manifest = parseJson(image.manifest, "an image manifest");
  image.configDescriptor =
      Descriptor::fromJson(manifest.value("config", json()));
  image.config = readBlob(image.configDescriptor.digest);
  for (const auto& layer : manifest.value("layers", json::array())) {
    image.layers.push_back(Descriptor::fromJson(layer));
  }
  return image;
}

}  // namespace kiln::oci
