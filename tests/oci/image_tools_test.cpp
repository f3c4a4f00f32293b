// skopeo and umoci read what kiln writes.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "core/oci/archive.h"
#include "tests/common/test_support.h"
#include "tests/oci/oci_test_support.h"
#include "util/atomic_file.h"

using namespace kiln::oci;
using kiln::test::run;
using kiln::test::RunResult;
using kiln::test::TempDir;
using nlohmann::json;
namespace fs = std::filesystem;

TEST_CASE("skopeo inspects gzip and zstd images", "[oci][integration]") {
  TempDir dir;
  Layout layout = Layout::create(dir / "layout");
  Descriptor gzip =
      test::buildAppImage(layout, "hello", Compression::gzip, "hello gzip");
  Descriptor zstd = test::buildAppImage(layout, "hello-zstd", Compression::zstd,
                                        "hello zstd");

  for (const auto& [name, descriptor] :
       {std::pair{"hello", gzip}, std::pair{"hello-zstd", zstd}}) {
    INFO(name);
    RunResult result = run(
        {"skopeo", "inspect", "oci:" + (dir / "layout").string() + ":" + name},
        dir.path());
    INFO(result.output);
    REQUIRE(result.exitCode == 0);
    json inspected = json::parse(result.output);
    CHECK(inspected["Digest"] == digestString(descriptor.digest));
    CHECK(inspected["Architecture"] == "amd64");
    CHECK(inspected["Os"] == "linux");
    CHECK(inspected["Layers"].size() == 2);
  }
}

TEST_CASE("umoci unpacks the gzip image", "[oci][integration]") {
  TempDir dir;
  Layout layout = Layout::create(dir / "layout");
  test::buildAppImage(layout, "hello", Compression::gzip, "hello umoci");

  RunResult result =
      run({"umoci", "unpack", "--image", (dir / "layout").string() + ":hello",
           (dir / "bundle").string()},
          dir.path());
  INFO(result.output);
  REQUIRE(result.exitCode == 0);
  fs::path rootfs = dir / "bundle/rootfs";
  CHECK(kiln::readFile(rootfs / "app/data/hello.txt") == "hello umoci\n");
  CHECK(fs::exists(rootfs / "usr/bin/node"));
  CHECK(fs::is_symlink(rootfs / "app/current"));
  CHECK(fs::read_symlink(rootfs / "app/current") == "server.js");
  CHECK(fs::status(rootfs / "app/server.js").permissions() == fs::perms(0644));

  json runtime = json::parse(kiln::readFile(dir / "bundle/config.json"));
  CHECK(runtime["process"]["args"] == json::array({"node", "/app/server.js"}));
  CHECK(runtime["process"]["user"]["uid"] == 10001);
  CHECK(runtime["process"]["cwd"] == "/app");
}

TEST_CASE("skopeo inspects the oci-archive", "[oci][integration]") {
  TempDir dir;
  Layout layout = Layout::create(dir / "layout");
  Descriptor manifest =
      test::buildAppImage(layout, "hello", Compression::gzip, "archive");
  writeOciArchive(layout, "hello", dir / "hello.tar");

  RunResult result =
      run({"skopeo", "inspect", "oci-archive:" + (dir / "hello.tar").string()},
          dir.path());
  INFO(result.output);
  REQUIRE(result.exitCode == 0);
  CHECK(json::parse(result.output)["Digest"] == digestString(manifest.digest));
}

TEST_CASE("image on a real base is reproducible", "[oci][integration]") {
  TempDir dir;
  Layout first = Layout::create(dir / "first");
  Layout second = Layout::create(dir / "second");
  Descriptor a = test::buildAppImage(first, "app", Compression::gzip, "same");
  Descriptor b = test::buildAppImage(second, "app", Compression::gzip, "same");
  CHECK(a.digest == b.digest);
  CHECK(kiln::readFile(dir / "first/index.json") ==
        kiln::readFile(dir / "second/index.json"));
}
