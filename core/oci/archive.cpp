#include "core/oci/archive.h"

#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <stdexcept>

#include "core/oci/compression.h"
#include "core/oci/errors.h"
#include "core/oci/tar_writer.h"
#include "util/atomic_file.h"
#include "util/error.h"

namespace kiln::oci {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Writes a tar file at a temporary path and renames it over `output` when
// complete, so readers never see half an archive.
class ArchiveFile {
 public:
  ArchiveFile(const fs::path& output, std::int64_t mtime)
      : output_(output),
        temporary_(temporaryPathFor(output)),
        file_(temporary_),
        tar_(file_),
        mtime_(mtime) {}

  ~ArchiveFile() {
    if (!committed_) {
      std::error_code error;
      fs::remove(temporary_, error);
    }
  }

  TarHeader header(std::string path, EntryType type) const {
    TarHeader header;
    header.path = std::move(path);
    header.type = type;
    header.mode = type == EntryType::directory ? 0755 : 0644;
    header.mtime = mtime_;
    return header;
  }

  void directory(const std::string& path) {
    tar_.writeHeader(header(path, EntryType::directory));
  }

  void bytes(const std::string& path, std::string_view content) {
    tar_.writeBytes(header(path, EntryType::file), content);
  }

  void file(const std::string& path, const fs::path& source) {
    tar_.writeFile(header(path, EntryType::file), source);
  }

  TarWriter& tar() { return tar_; }

  void commit() {
    tar_.finish();
    file_.close();
    if (::rename(temporary_.c_str(), output_.c_str()) != 0) {
      throw std::system_error(errno, std::generic_category(),
                              "cannot rename into " + output_.string());
    }
    committed_ = true;
  }

 private:
  fs::path output_;
  fs::path temporary_;
  FileSink file_;
  TarWriter tar_;
  std::int64_t mtime_;
  bool committed_ = false;
};

// Checks that the layer and config blobs are present and intact.
void verifyImageBlobs(const Layout& layout, const StoredImage& image) {
  for (const auto& layer : image.layers) {
    layout.verifyBlob(layer.digest);
  }
}

// Decompresses a layer once to learn its size, checking its diff ID.
std::int64_t uncompressedLayerSize(const Layout& layout,
                                   const Descriptor& layer,
                                   const std::string& diffId) {
  Sha256 hasher;
  std::int64_t size = 0;
  decompressLayer(layout.blobPath(layer.digest), layer.mediaType,
                  [&](const char* data, std::size_t length) {
                    hasher.update(data, length);
                    size += static_cast<std::int64_t>(length);
                  });
  std::string actual = digestString(hasher.finish());
  if (actual != diffId) {
    throw DigestMismatchError("the uncompressed layer " +
                                  digestString(layer.digest) +
                                  " does not match its diff ID",
                              diffId, actual);
  }
  return size;
}

}  // namespace

std::string dockerRepoTag(std::string_view name, std::string_view tag) {
  // Repository path components and tags as Docker's reference grammar
  // (distribution/reference) defines them.
  static const std::regex kRepository(
      "[a-z0-9]+((\\.|_|__|-+)[a-z0-9]+)*(/"
      "[a-z0-9]+((\\.|_|__|-+)[a-z0-9]+)*)*");
  static const std::regex kTag("[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}");
  std::string repository = "kiln/" + std::string(name);
  if (!std::regex_match(repository, kRepository)) {
    throw UsageError("image name '" + std::string(name) +
                         "' is not valid in a Docker repository name",
                     "use lower-case letters, digits and single '.', '_' "
                     "or '-' between them");
  }
  if (!std::regex_match(tag.begin(), tag.end(), kTag)) {
    throw UsageError("invalid image tag '" + std::string(tag) + "'",
                     "use at most 128 letters, digits, '_', '.' and '-', "
                     "not starting with '.' or '-'");
  }
  return repository + ":" + std::string(tag);
}

void writeOciArchive(const Layout& layout, std::string_view name,
                     const fs::path& output, std::int64_t mtime) {
  StoredImage image = layout.readImage(name);
  verifyImageBlobs(layout, image);

  Descriptor entry = image.manifestDescriptor;
  entry.annotations = {{std::string(kRefNameAnnotation), std::string(name)}};
  entry.platform.reset();
  std::string index =
      canonicalJson({{"schemaVersion", 2},
                     {"mediaType", media::kOciIndex},
                     {"manifests", json::array({entry.toJson()})}});

  // Sorted blob names; an image may list the same layer twice.
  std::set<std::string> blobs = {image.manifestDescriptor.digest.hex(),
                                 image.configDescriptor.digest.hex()};
  for (const auto& layer : image.layers) {
    blobs.insert(layer.digest.hex());
  }
  ArchiveFile archive(output, mtime);
  archive.directory("blobs");
  archive.directory("blobs/sha256");
  for (const auto& hex : blobs) {
    archive.file("blobs/sha256/" + hex,
                 layout.dir() / "blobs" / "sha256" / hex);
  }
  archive.bytes("index.json", index);
  archive.bytes("oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}");
  archive.commit();
}

void writeDockerArchive(const Layout& layout, std::string_view name,
                        std::string_view tag, const fs::path& output,
                        std::int64_t mtime) {
  std::string repoTag = dockerRepoTag(name, tag);
  StoredImage image = layout.readImage(name);
  verifyImageBlobs(layout, image);
  json config = parseJson(image.config, "the image config");
  json diffIds =
      config.value("rootfs", json::object()).value("diff_ids", json::array());
  if (diffIds.size() != image.layers.size()) {
    throw std::runtime_error("the config of image '" + std::string(name) +
                             "' lists " + std::to_string(diffIds.size()) +
                             " diff_ids for " +
                             std::to_string(image.layers.size()) + " layers");
  }

  // Entries sorted by path: <config>.json, the layer folders, manifest.json.
  std::string configName = image.configDescriptor.digest.hex() + ".json";
  std::map<std::string, std::size_t> layerDirs;  // diff ID hex -> layer
  json layerPaths = json::array();
  for (std::size_t i = 0; i < image.layers.size(); ++i) {
    std::string diffId = diffIds[i].get<std::string>();
    auto parsed = parseDigestString(diffId);
    if (!parsed) {
      throw std::runtime_error("invalid diff ID '" + diffId +
                               "' in the config of image '" +
                               std::string(name) + "'");
    }
    layerDirs.emplace(parsed->hex(), i);
    layerPaths.push_back(parsed->hex() + "/layer.tar");
  }
  json manifest = json::array({{{"Config", configName},
                                {"RepoTags", json::array({repoTag})},
                                {"Layers", layerPaths}}});

  ArchiveFile archive(output, mtime);
  std::map<std::string, std::function<void()>> entries;
  entries[configName] = [&] { archive.bytes(configName, image.config); };
  entries["manifest.json"] = [&] {
    archive.bytes("manifest.json", canonicalJson(manifest));
  };
  for (const auto& [hex, index] : layerDirs) {
    const Descriptor& layer = image.layers[index];
    std::string diffId = diffIds[index].get<std::string>();
    entries[hex] = [&, hex, diffId] {
      archive.directory(hex);
      TarHeader header = archive.header(hex + "/layer.tar", EntryType::file);
      header.size = uncompressedLayerSize(layout, layer, diffId);
      archive.tar().writeHeader(header);
      decompressLayer(layout.blobPath(layer.digest), layer.mediaType,
                      [&](const char* data, std::size_t length) {
                        archive.tar().writeData(data, length);
                      });
    };
  }
  for (const auto& [path, write] : entries) {
    write();
  }
  archive.commit();
}

}  // namespace kiln::oci
