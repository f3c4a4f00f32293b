// OCI image layouts: blobs, names, reading back, damage.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "core/oci/errors.h"
#include "core/oci/image.h"
#include "core/oci/layer.h"
#include "core/oci/layout.h"
#include "tests/common/test_support.h"
#include "tests/oci/oci_test_support.h"
#include "util/atomic_file.h"

using namespace kiln::oci;
using kiln::test::TempDir;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

LayerResult addLayer(Layout& layout, const std::string& path,
                     const std::string& content) {
  LayerEntry entry;
  entry.path = path;
  entry.content = content;
  fs::path temporary = layout.temporaryPath();
  LayerResult layer = writeLayer({entry}, {}, temporary);
  layout.putBlobFile(temporary, layer.digest, true);
  return layer;
}

// Assembles an image from layers and names it in the layout.
Descriptor addImage(Layout& layout, const std::string& name,
                    const std::vector<LayerResult>& layers) {
  ImageSpec spec;
  for (const auto& layer : layers) {
    spec.layers.push_back({layer.descriptor(), layer.diffId, name});
  }
  AssembledImage image = assembleImage(spec);
  layout.putBlob(image.config);
  layout.putBlob(image.manifest);
  layout.setImage(name, image.manifestDescriptor);
  return image.manifestDescriptor;
}

ino_t inodeOf(const fs::path& path) {
  struct stat status;
  REQUIRE(::stat(path.c_str(), &status) == 0);
  return status.st_ino;
}

}  // namespace

TEST_CASE("layout starts with oci-layout and an empty index", "[oci][layout]") {
  TempDir dir;
  Layout layout = Layout::create(dir / "layout");
  CHECK(kiln::readFile(dir / "layout/oci-layout") ==
        R"({"imageLayoutVersion":"1.0.0"})");
  json index = json::parse(kiln::readFile(dir / "layout/index.json"));
  CHECK(index["schemaVersion"] == 2);
  CHECK(index["manifests"].empty());
  CHECK(fs::is_directory(dir / "layout/blobs/sha256"));
  CHECK_NOTHROW(Layout::open(dir / "layout"));
  CHECK_NOTHROW(Layout::create(dir / "layout"));

  kiln::test::writeFile(dir / "other/file", "x");
  CHECK_THROWS_AS(Layout::create(dir / "other"), kiln::UsageError);
  CHECK_THROWS_AS(Layout::open(dir / "other"), kiln::UsageError);
}

TEST_CASE("layout stores a shared blob once", "[oci][layout]") {
  TempDir dir;
  Layout layout = Layout::create(dir / "layout");
  LayerResult shared = addLayer(layout, "node_modules/x.js", "shared");
  ino_t before = inodeOf(layout.blobPath(shared.digest));
  LayerResult again = addLayer(layout, "node_modules/x.js", "shared");
  LayerResult own = addLayer(layout, "app/main.js", "own");

  addImage(layout, "gateway", {shared, own});
  addImage(layout, "auth", {again});

  CHECK(again.digest == shared.digest);
  CHECK(inodeOf(layout.blobPath(shared.digest)) == before);
  // Two layers, two configs, two manifests.
  CHECK(test::countFiles(dir / "layout/blobs") == 6);
  CHECK(layout.imageNames() == std::vector<std::string>{"auth", "gateway"});
}

TEST_CASE("layout replaces an image of the same name", "[oci][layout]") {
  TempDir dir;
  Layout layout = Layout::create(dir / "layout");
  Descriptor first = addImage(layout, "app", {addLayer(layout, "a", "1")});
  Descriptor second = addImage(layout, "app", {addLayer(layout, "a", "2")});
  addImage(layout, "aaa", {addLayer(layout, "a", "3")});

  json index = json::parse(kiln::readFile(dir / "layout/index.json"));
  REQUIRE(index["manifests"].size() == 2);
  CHECK(index["manifests"][0]["annotations"][kRefNameAnnotation] == "aaa");
  CHECK(index["manifests"][1]["annotations"][kRefNameAnnotation] == "app");
  CHECK(index["manifests"][1]["digest"] == digestString(second.digest));
  CHECK(first.digest != second.digest);
  REQUIRE(layout.findImage("app"));
  CHECK(layout.findImage("app")->digest == second.digest);
}

TEST_CASE("layout reads an image back", "[oci][layout]") {
  TempDir dir;
  Layout layout = Layout::create(dir / "layout");
  LayerResult layer = addLayer(layout, "a", "1");
  Descriptor manifest = addImage(layout, "app", {layer});

  StoredImage image = layout.readImage("app");
  CHECK(image.manifestDescriptor.digest == manifest.digest);
  REQUIRE(image.layers.size() == 1);
  CHECK(image.layers[0].digest == layer.digest);
  CHECK(kiln::sha256(image.config) == image.configDescriptor.digest);
}

TEST_CASE("layout resolves an index to linux/amd64", "[oci][layout]") {
  TempDir dir;
  Layout layout = Layout::create(dir / "layout");
  Descriptor manifest = addImage(layout, "amd", {addLayer(layout, "a", "1")});
  Descriptor other = manifest;
  other.digest = layout.putBlob(R"({"schemaVersion":2})");
  other.platform = Platform{"arm64", "linux", "v8"};
  Descriptor amd64 = manifest;
  amd64.annotations.clear();
  amd64.platform = Platform{"amd64", "linux", ""};
  json index = {{"schemaVersion", 2},
                {"mediaType", media::kOciIndex},
                {"manifests", {other.toJson(), amd64.toJson()}}};
  Descriptor indexDescriptor;
  indexDescriptor.mediaType = std::string(media::kOciIndex);
  std::string text = canonicalJson(index);
  indexDescriptor.digest = layout.putBlob(text);
  indexDescriptor.size = static_cast<std::int64_t>(text.size());
  layout.setImage("multi", indexDescriptor);

  CHECK(layout.readImage("multi").manifestDescriptor.digest == manifest.digest);
}

TEST_CASE("layout names an unknown image with a hint", "[oci][layout]") {
  TempDir dir;
  Layout layout = Layout::create(dir / "layout");
  addImage(layout, "gateway", {addLayer(layout, "a", "1")});
  try {
    layout.readImage("gatway");
    FAIL("no exception");
  } catch (const kiln::UsageError& error) {
    CHECK_THAT(error.what(), Catch::Contains("'gatway' not found"));
    CHECK_THAT(error.hint(), Catch::Contains("gateway"));
  }
  CHECK_THROWS_AS(layout.setImage("bad name", {}), kiln::UsageError);
}

TEST_CASE("damaged layout blobs fail their digest check", "[oci][layout]") {
  TempDir dir;
  Layout layout = Layout::create(dir / "layout");
  LayerResult layer = addLayer(layout, "a", std::string(4096, 'x'));
  addImage(layout, "app", {layer});
  StoredImage image = layout.readImage("app");

  test::corruptFile(layout.blobPath(layer.digest));
  CHECK_THROWS_AS(layout.verifyBlob(layer.digest), DigestMismatchError);
  test::corruptFile(layout.blobPath(image.configDescriptor.digest));
  CHECK_THROWS_AS(layout.readImage("app"), DigestMismatchError);

  fs::path wrong = dir / "wrong";
  kiln::writeFileAtomic(wrong, "not the layer");
  CHECK_THROWS_AS(layout.putBlobFile(wrong, kiln::sha256("other"), true),
                  DigestMismatchError);
  CHECK(fs::exists(wrong));
}

TEST_CASE("oci:DIR:NAME references are parsed", "[oci][layout]") {
  LayoutReference reference = LayoutReference::parse("oci:build/bases:node20");
  CHECK(reference.dir == "build/bases");
  CHECK(reference.name == "node20");
  CHECK(LayoutReference::matches("oci:/x:y"));
  CHECK_FALSE(LayoutReference::matches("node:20"));
  for (const char* text : {"oci:dir", "oci::name", "oci:dir:", "docker:x:y"}) {
    INFO(text);
    CHECK_THROWS_AS(LayoutReference::parse(text), kiln::UsageError);
  }
}

TEST_CASE("layout copies an image's blobs", "[oci][layout]") {
  TempDir dir;
  Layout source = Layout::create(dir / "source");
  addImage(source, "base",
           {addLayer(source, "a", "1"), addLayer(source, "b", "2")});
  StoredImage base = source.readImage("base");
  Layout target = Layout::create(dir / "target");
  target.copyImageBlobsFrom(source, base);
  CHECK(target.hasBlob(base.configDescriptor.digest));
  CHECK(target.hasBlob(base.layers[0].digest));
  CHECK(target.hasBlob(base.layers[1].digest));
  CHECK_FALSE(target.hasBlob(base.manifestDescriptor.digest));
}
