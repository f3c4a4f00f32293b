// Canonical layers: determinism, order, parents, modes, symlinks, names.
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <clocale>

#include "core/oci/layer.h"
#include "tests/common/test_support.h"
#include "tests/oci/oci_test_support.h"
#include "util/atomic_file.h"
#include "util/error.h"

using namespace kiln::oci;
using kiln::test::TempDir;
using kiln::test::writeFile;
namespace fs = std::filesystem;

namespace {

// A small tree with nested folders, an executable and a symlink.
void makeTree(const fs::path& root) {
  writeFile(root / "app/main.js", "console.log('hi')\n");
  writeFile(root / "app/lib/util.js", "module.exports = 1;\n");
  writeFile(root / "bin/run", "#!/bin/sh\nexec node /app/main.js\n");
  fs::permissions(root / "bin/run", fs::perms(0755));
  writeFile(root / "README", "readme\n");
  fs::create_symlink("../app/main.js", root / "bin/main");
}

std::vector<std::string> paths(const std::vector<test::TarEntry>& entries) {
  std::vector<std::string> result;
  for (const auto& entry : entries) {
    result.push_back(entry.path);
  }
  return result;
}

const test::TarEntry& find(const std::vector<test::TarEntry>& entries,
                           const std::string& path) {
  for (const auto& entry : entries) {
    if (entry.path == path) {
      return entry;
    }
  }
  FAIL("no tar entry " << path);
  throw std::logic_error("unreachable");
}

LayerEntry fileEntry(std::string path, std::string content,
                     unsigned mode = 0644) {
  LayerEntry entry;
  entry.path = std::move(path);
  entry.content = std::move(content);
  entry.mode = mode;
  return entry;
}

}  // namespace

TEST_CASE("layer digest ignores times, owners and order", "[oci][layer]") {
  Compression compression = GENERATE(Compression::gzip, Compression::zstd);
  INFO("compression " << layerMediaType(compression));
  TempDir dir;
  makeTree(dir / "tree");
  LayerOptions options;
  options.compression = compression;

  LayerResult first =
      writeLayer(scanDirectory(dir / "tree", "srv"), options, dir / "one");

  // Other times and owners on disk, and the entries in reverse order.
  for (const auto& entry : fs::recursive_directory_iterator(dir / "tree")) {
    test::setTimes(entry.path(), 631152000, 978307200);
    REQUIRE(::lchown(entry.path().c_str(), 1234, 1234) == 0);
  }
  std::vector<LayerEntry> reversed = scanDirectory(dir / "tree", "srv");
  std::reverse(reversed.begin(), reversed.end());
  LayerResult second = writeLayer(reversed, options, dir / "two");

  CHECK(first.digest == second.digest);
  CHECK(first.diffId == second.diffId);
  CHECK(first.size == second.size);
  CHECK(kiln::readFile(dir / "one") == kiln::readFile(dir / "two"));

  writeFile(dir / "tree/README", "readme, changed\n");
  LayerResult changed =
      writeLayer(scanDirectory(dir / "tree", "srv"), options, dir / "three");
  CHECK(changed.digest != first.digest);
  CHECK(changed.diffId != first.diffId);
}

TEST_CASE("layer result describes the written file", "[oci][layer]") {
  Compression compression = GENERATE(Compression::gzip, Compression::zstd);
  TempDir dir;
  makeTree(dir / "tree");
  LayerOptions options;
  options.compression = compression;
  LayerResult layer =
      writeLayer(scanDirectory(dir / "tree", ""), options, dir / "layer");

  CHECK(kiln::sha256File(dir / "layer") == layer.digest);
  CHECK(static_cast<std::int64_t>(fs::file_size(dir / "layer")) == layer.size);
  CHECK(layer.mediaType == layerMediaType(compression));
  CHECK(layer.descriptor().digest == layer.digest);
  CHECK(layer.uncompressedSize % 512 == 0);
  CHECK(layer.uncompressedSize > layer.size);
}

TEST_CASE("layer entries are sorted with parents added", "[oci][layer]") {
  TempDir dir;
  std::vector<LayerEntry> entries = {
      fileEntry("z/file", "z"), fileEntry("/a/b/c.txt", "c"),
      fileEntry("./a.txt", "a"), fileEntry("a/b.txt", "b")};
  writeLayer(entries, {}, dir / "layer");
  auto tar = test::readTar(dir / "layer");

  std::vector<std::string> expected = {"a",     "a/b", "a/b/c.txt", "a/b.txt",
                                       "a.txt", "z",   "z/file"};
  CHECK(paths(tar) == expected);
  const auto& parent = find(tar, "a/b");
  CHECK(parent.type == EntryType::directory);
  CHECK(parent.mode == 0755);
  CHECK(parent.uid == 0);
  CHECK(parent.gid == 0);
  CHECK(find(tar, "a/b/c.txt").content == "c");
}

TEST_CASE("layer entries carry fixed metadata only", "[oci][layer]") {
  TempDir dir;
  LayerEntry owned = fileEntry("home/app/data", "x");
  owned.uid = 10001;
  owned.gid = 10002;
  LayerOptions options;
  options.mtime = 1700000000;
  writeLayer({fileEntry("etc/config", "c"), owned}, options, dir / "layer");
  auto tar = test::readTar(dir / "layer");

  REQUIRE(tar.size() == 5);
  for (const auto& entry : tar) {
    INFO(entry.path);
    CHECK(entry.mtime == 1700000000);
    CHECK_FALSE(entry.hasAtime);
    CHECK_FALSE(entry.hasCtime);
    CHECK(entry.uname.empty());
    CHECK(entry.gname.empty());
  }
  CHECK(find(tar, "etc/config").uid == 0);
  CHECK(find(tar, "home/app/data").uid == 10001);
  CHECK(find(tar, "home/app/data").gid == 10002);
}

TEST_CASE("layer keeps modes but drops special bits", "[oci][layer]") {
  TempDir dir;
  writeFile(dir / "tree/setuid", "s");
  writeFile(dir / "tree/setgid", "g");
  writeFile(dir / "tree/private", "p");
  writeFile(dir / "tree/tool", "t");
  fs::create_directories(dir / "tree/tmp");
  REQUIRE(::chmod((dir / "tree/setuid").c_str(), 04755) == 0);
  REQUIRE(::chmod((dir / "tree/setgid").c_str(), 02750) == 0);
  REQUIRE(::chmod((dir / "tree/private").c_str(), 0600) == 0);
  REQUIRE(::chmod((dir / "tree/tool").c_str(), 0755) == 0);
  REQUIRE(::chmod((dir / "tree/tmp").c_str(), 01777) == 0);
  LayerEntry inline04711 = fileEntry("inline", "i", 04711);

  auto entries = scanDirectory(dir / "tree", "");
  entries.push_back(inline04711);
  writeLayer(entries, {}, dir / "layer");
  auto tar = test::readTar(dir / "layer");

  CHECK(find(tar, "setuid").mode == 0755);
  CHECK(find(tar, "setgid").mode == 0750);
  CHECK(find(tar, "private").mode == 0600);
  CHECK(find(tar, "tool").mode == 0755);
  CHECK(find(tar, "tmp").mode == 0777);
  CHECK(find(tar, "inline").mode == 0711);
}

TEST_CASE("layer keeps symlinks as symlinks", "[oci][layer]") {
  TempDir dir;
  writeFile(dir / "tree/usr/bin/node", "binary");
  fs::create_symlink("/etc/passwd", dir / "tree/outside");
  fs::create_symlink("usr/bin", dir / "tree/bin");
  LayerEntry link;
  link.path = "opt/node";
  link.type = EntryType::symlink;
  link.linkTarget = "../usr/bin/node";

  auto entries = scanDirectory(dir / "tree", "");
  entries.push_back(link);
  writeLayer(entries, {}, dir / "layer");
  auto tar = test::readTar(dir / "layer");

  CHECK(find(tar, "outside").type == EntryType::symlink);
  CHECK(find(tar, "outside").linkTarget == "/etc/passwd");
  CHECK(find(tar, "outside").content.empty());
  CHECK(find(tar, "bin").type == EntryType::symlink);
  CHECK(find(tar, "bin").linkTarget == "usr/bin");
  CHECK(find(tar, "opt/node").type == EntryType::symlink);
  CHECK(find(tar, "opt/node").linkTarget == "../usr/bin/node");
}

TEST_CASE("long and non-ASCII names round-trip", "[oci][layer]") {
  TempDir dir;
  std::string longPath;
  while (longPath.size() < 150) {
    longPath += "segment-" + std::to_string(longPath.size()) + "/";
  }
  longPath += "file.txt";
  REQUIRE(longPath.size() >= 150);
  std::string accented = "données/naïve-日本語.txt";
  std::string longLink(160, 'x');

  LayerEntry link;
  link.path = "links/long";
  link.type = EntryType::symlink;
  link.linkTarget = longLink;
  std::vector<LayerEntry> entries = {fileEntry(longPath, "long"),
                                     fileEntry(accented, "accented"), link};
  LayerResult layer = writeLayer(entries, {}, dir / "layer");
  auto tar = test::readTar(dir / "layer");

  CHECK(find(tar, longPath).content == "long");
  CHECK(find(tar, accented).content == "accented");
  CHECK(find(tar, "links/long").linkTarget == longLink);

  // The bytes must not depend on the process locale.
  const char* previous = std::setlocale(LC_ALL, nullptr);
  std::string saved = previous != nullptr ? previous : "C";
  REQUIRE(std::setlocale(LC_ALL, "C.UTF-8") != nullptr);
  LayerResult utf8Locale = writeLayer(entries, {}, dir / "layer-utf8");
  std::setlocale(LC_ALL, saved.c_str());
  CHECK(utf8Locale.digest == layer.digest);
}

TEST_CASE("gzip header has no name and no time", "[oci][layer]") {
  TempDir dir;
  writeLayer({fileEntry("a", "a")}, {}, dir / "layer");
  std::string bytes = kiln::readFile(dir / "layer");
  REQUIRE(bytes.size() > 10);
  CHECK(static_cast<unsigned char>(bytes[0]) == 0x1f);
  CHECK(static_cast<unsigned char>(bytes[1]) == 0x8b);
  CHECK(bytes[3] == 0);  // flags: no FNAME, FCOMMENT, FEXTRA, FHCRC
  CHECK(bytes.substr(4, 4) == std::string(4, '\0'));   // MTIME
  CHECK(static_cast<unsigned char>(bytes[9]) == 255);  // OS: unknown
}

TEST_CASE("zstd layer starts with the zstd magic", "[oci][layer]") {
  TempDir dir;
  LayerOptions options;
  options.compression = Compression::zstd;
  writeLayer({fileEntry("a", "a")}, options, dir / "layer");
  std::string bytes = kiln::readFile(dir / "layer");
  REQUIRE(bytes.size() > 4);
  CHECK(bytes.substr(0, 4) == std::string("\x28\xb5\x2f\xfd", 4));
}

TEST_CASE("layer rejects invalid and duplicate paths", "[oci][layer]") {
  TempDir dir;
  CHECK_THROWS_AS(writeLayer({fileEntry("a/../b", "x")}, {}, dir / "l"),
                  kiln::UsageError);
  CHECK_THROWS_AS(writeLayer({fileEntry("/", "x")}, {}, dir / "l"),
                  kiln::UsageError);
  CHECK_THROWS_AS(writeLayer({fileEntry("bad\xff", "x")}, {}, dir / "l"),
                  kiln::UsageError);
  CHECK_THROWS_AS(
      writeLayer({fileEntry("a", "1"), fileEntry("/a", "2")}, {}, dir / "l"),
      kiln::UsageError);
  CHECK_THROWS_AS(
      writeLayer({fileEntry("a", "1"), fileEntry("a/b", "2")}, {}, dir / "l"),
      kiln::UsageError);

  LayerEntry folder;
  folder.path = "a";
  folder.type = EntryType::directory;
  folder.mode = 0755;
  CHECK_NOTHROW(
      writeLayer({folder, folder, fileEntry("a/b", "2")}, {}, dir / "l"));
}

TEST_CASE("scanDirectory leaves the root's own mode out", "[oci][layer]") {
  TempDir dir;
  writeFile(dir / "out/index.html", "<p>hi</p>");
  REQUIRE(::chmod((dir / "out").c_str(), 0700) == 0);
  writeLayer(scanDirectory(dir / "out", "usr/share/nginx/html"), {},
             dir / "layer");
  auto tar = test::readTar(dir / "layer");
  CHECK(find(tar, "usr/share/nginx/html").mode == 0755);
  CHECK(find(tar, "usr/share/nginx/html/index.html").content == "<p>hi</p>");
}

TEST_CASE("directory layer equals listed layer", "[oci][layer]") {
  Compression compression = GENERATE(Compression::gzip, Compression::zstd);
  TempDir dir;
  makeTree(dir / "tree");
  writeFile(dir / "tree/données/日本.txt", "utf-8");
  writeFile(dir / "tree/a.txt", "a");
  writeFile(dir / "tree/a/b", "b");
  LayerOptions options;
  options.compression = compression;
  options.mtime = 1234;

  for (const char* prefix : {"", "srv", "/usr/share/app/"}) {
    INFO("prefix '" << prefix << "'");
    LayerResult listed = writeLayer(scanDirectory(dir / "tree", prefix),
                                    options, dir / "listed");
    LayerResult streamed =
        writeDirectoryLayer(dir / "tree", prefix, options, dir / "streamed");
    CHECK(streamed.digest == listed.digest);
    CHECK(streamed.diffId == listed.diffId);
    CHECK(kiln::readFile(dir / "streamed") == kiln::readFile(dir / "listed"));
  }
}

TEST_CASE("directory layer removes output on failure", "[oci][layer]") {
  TempDir dir;
  writeFile(dir / "tree/ok", "ok");
  REQUIRE(::mkfifo((dir / "tree/fifo").c_str(), 0644) == 0);
  CHECK_THROWS_AS(writeDirectoryLayer(dir / "tree", "", {}, dir / "layer"),
                  std::runtime_error);
  CHECK_FALSE(fs::exists(dir / "layer"));
  CHECK_THROWS_AS(writeDirectoryLayer(dir / "missing", "", {}, dir / "layer"),
                  std::system_error);
}
