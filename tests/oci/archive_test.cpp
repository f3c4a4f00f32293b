// oci-archive and docker-archive tarballs.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "core/oci/archive.h"
#include "core/oci/errors.h"
#include "core/oci/image.h"
#include "core/oci/layer.h"
#include "tests/common/test_support.h"
#include "tests/oci/oci_test_support.h"
#include "util/atomic_file.h"
#include "util/error.h"

using namespace kiln::oci;
using kiln::test::TempDir;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

struct Fixture {
  TempDir dir;
  Layout layout = Layout::create(dir / "layout");
  std::vector<LayerResult> layers;
  AssembledImage image;

  Fixture() {
    for (auto compression : {Compression::gzip, Compression::zstd}) {
      LayerEntry entry;
      entry.path = compression == Compression::gzip ? "app/a.txt" : "b.txt";
      entry.content = "content of " + entry.path;
      LayerOptions options;
      options.compression = compression;
      fs::path temporary = layout.temporaryPath();
      layers.push_back(writeLayer({entry}, options, temporary));
      layout.putBlobFile(temporary, layers.back().digest, true);
    }
    ImageSpec spec;
    for (const auto& layer : layers) {
      spec.layers.push_back({layer.descriptor(), layer.diffId, "test"});
    }
    image = assembleImage(spec);
    layout.putBlob(image.config);
    layout.putBlob(image.manifest);
    layout.setImage("app", image.manifestDescriptor);
  }
};

const test::TarEntry* find(const std::vector<test::TarEntry>& entries,
                           const std::string& path) {
  for (const auto& entry : entries) {
    if (entry.path == path) {
      return &entry;
    }
  }
  return nullptr;
}

}  // namespace

TEST_CASE("oci-archive holds one image, deterministically", "[oci][archive]") {
  Fixture fixture;
  fs::path first = fixture.dir / "first.tar";
  fs::path second = fixture.dir / "second.tar";
  writeOciArchive(fixture.layout, "app", first);
  writeOciArchive(fixture.layout, "app", second);
  CHECK(kiln::readFile(first) == kiln::readFile(second));

  auto entries = test::readTar(first);
  std::vector<std::string> paths;
  for (const auto& entry : entries) {
    paths.push_back(entry.path);
    CHECK(entry.mtime == 0);
    CHECK(entry.uid == 0);
  }
  std::vector<std::string> blobs = {
      fixture.image.manifestDescriptor.digest.hex(),
      fixture.image.configDescriptor.digest.hex(),
      fixture.layers[0].digest.hex(), fixture.layers[1].digest.hex()};
  std::sort(blobs.begin(), blobs.end());
  std::vector<std::string> expected = {"blobs", "blobs/sha256"};
  for (const auto& hex : blobs) {
    expected.push_back("blobs/sha256/" + hex);
  }
  expected.push_back("index.json");
  expected.push_back("oci-layout");
  CHECK(paths == expected);

  json index = json::parse(find(entries, "index.json")->content);
  REQUIRE(index["manifests"].size() == 1);
  CHECK(index["manifests"][0]["digest"] ==
        digestString(fixture.image.manifestDescriptor.digest));
  CHECK(index["manifests"][0]["annotations"][kRefNameAnnotation] == "app");
}

TEST_CASE("docker-archive has manifest.json and plain layers",
          "[oci][archive]") {
  Fixture fixture;
  fs::path file = fixture.dir / "docker.tar";
  writeDockerArchive(fixture.layout, "app", "1.0", file);
  fs::path again = fixture.dir / "again.tar";
  writeDockerArchive(fixture.layout, "app", "1.0", again);
  CHECK(kiln::readFile(file) == kiln::readFile(again));

  auto entries = test::readTar(file);
  const test::TarEntry* manifestEntry = find(entries, "manifest.json");
  REQUIRE(manifestEntry != nullptr);
  json manifest = json::parse(manifestEntry->content);
  REQUIRE(manifest.size() == 1);
  std::string configName =
      fixture.image.configDescriptor.digest.hex() + ".json";
  CHECK(manifest[0]["Config"] == configName);
  CHECK(manifest[0]["RepoTags"] == json::array({"kiln/app:1.0"}));
  REQUIRE(manifest[0]["Layers"].size() == 2);
  REQUIRE(find(entries, configName) != nullptr);
  CHECK(find(entries, configName)->content == fixture.image.config);

  for (std::size_t i = 0; i < 2; ++i) {
    std::string path = manifest[0]["Layers"][i];
    CHECK(path == fixture.layers[i].diffId.hex() + "/layer.tar");
    const test::TarEntry* layer = find(entries, path);
    REQUIRE(layer != nullptr);
    CHECK(kiln::sha256(layer->content) == fixture.layers[i].diffId);
  }
}

TEST_CASE("archives reject bad names and damaged layers", "[oci][archive]") {
  Fixture fixture;
  CHECK_THROWS_AS(dockerRepoTag("App", "1"), kiln::UsageError);
  CHECK_THROWS_AS(dockerRepoTag("app", ".bad"), kiln::UsageError);
  CHECK(dockerRepoTag("ngwenya/auth", "1.2") == "kiln/ngwenya/auth:1.2");
  CHECK_THROWS_AS(
      writeDockerArchive(fixture.layout, "missing", "1", fixture.dir / "x.tar"),
      kiln::UsageError);

  test::corruptFile(fixture.layout.blobPath(fixture.layers[0].digest));
  CHECK_THROWS_AS(
      writeDockerArchive(fixture.layout, "app", "1", fixture.dir / "d.tar"),
      DigestMismatchError);
  CHECK_THROWS_AS(writeOciArchive(fixture.layout, "app", fixture.dir / "o.tar"),
                  DigestMismatchError);
  CHECK_FALSE(fs::exists(fixture.dir / "d.tar"));
  CHECK_FALSE(fs::exists(fixture.dir / "o.tar"));
}
