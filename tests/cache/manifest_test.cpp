#include <catch2/catch.hpp>

#include "cache/tree_manifest.h"
#include "core/outputs.h"

using namespace kiln;

TEST_CASE("manifest round trips canonically", "[manifest]") {
  TreeManifest manifest;
  TreeEntry file;
  file.path = "dist/b.js";
  file.size = 3;
  file.digest = sha256("abc");
  TreeEntry dir;
  dir.path = "dist";
  dir.type = EntryType::kDirectory;
  dir.mode = 0755;
  TreeEntry link;
  link.path = "dist/a";
  link.type = EntryType::kSymlink;
  link.target = "b.js";
  manifest.entries = {file, dir, link};
  std::string text = manifest.serialize();

  TreeManifest parsed;
  std::string error;
  REQUIRE(TreeManifest::parse(text, &parsed, &error));
  CHECK(parsed.serialize() == text);
  CHECK(parsed.entries.size() == 3);
  CHECK(parsed.entries[0].path == "dist");
  CHECK(parsed.digest() == manifest.digest());
}

TEST_CASE("entry paths must stay in outputs", "[manifest]") {
  std::vector<std::string> roots = {"apps/x/dist"};
  CHECK(validateEntryPath("apps/x/dist", roots).empty());
  CHECK(validateEntryPath("apps/x/dist/main.js", roots).empty());
  CHECK_FALSE(validateEntryPath("apps/x/distance", roots).empty());
  CHECK_FALSE(validateEntryPath("apps/x/dist/../../y", roots).empty());
  CHECK_FALSE(validateEntryPath("/etc/passwd", roots).empty());
  CHECK_FALSE(validateEntryPath("", roots).empty());
  CHECK_FALSE(validateEntryPath("apps/x/dist//a", roots).empty());
}

TEST_CASE("entries below symlinks are rejected", "[manifest]") {
  TreeManifest manifest;
  TreeEntry link;
  link.path = "out/link";
  link.type = EntryType::kSymlink;
  link.target = "/tmp";
  TreeEntry file;
  file.path = "out/link/x";
  manifest.entries = {link, file};
  CHECK_THAT(validateManifest(manifest, {"out"}),
             Catch::Contains("below the symlink"));
  manifest.entries = {link};
  CHECK(validateManifest(manifest, {"out"}).empty());
}

TEST_CASE("malformed manifests are rejected", "[manifest]") {
  TreeManifest parsed;
  std::string error;
  CHECK_FALSE(TreeManifest::parse("{", &parsed, &error));
  CHECK_FALSE(
      TreeManifest::parse(R"({"version":2,"entries":[]})", &parsed, &error));
  CHECK_FALSE(TreeManifest::parse(
      R"({"version":1,"entries":[{"path":"a","type":"file","mode":420,"size":1,"digest":"zz"}]})",
      &parsed, &error));
  CHECK_FALSE(TreeManifest::parse(
      R"({"version":1,"entries":[{"path":"a","type":"fifo"}]})", &parsed,
      &error));
}
