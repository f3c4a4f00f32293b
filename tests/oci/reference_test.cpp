// Image reference parsing.
#include <catch2/catch.hpp>

#include "core/oci/reference.h"
#include "util/error.h"

using kiln::oci::Reference;

TEST_CASE("references get Docker's defaults", "[oci][reference]") {
  struct Case {
    const char* text;
    const char* registry;
    const char* repository;
    const char* tag;
    const char* full;
  };
  const Case cases[] = {
      {"node:20-alpine", "docker.io", "library/node", "20-alpine",
       "docker.io/library/node:20-alpine"},
      {"node", "docker.io", "library/node", "latest",
       "docker.io/library/node:latest"},
      {"bitnami/redis:7", "docker.io", "bitnami/redis", "7",
       "docker.io/bitnami/redis:7"},
      {"index.docker.io/library/nginx:1", "docker.io", "library/nginx", "1",
       "docker.io/library/nginx:1"},
      {"127.0.0.1:5000/bases/node20:1", "127.0.0.1:5000", "bases/node20", "1",
       "127.0.0.1:5000/bases/node20:1"},
      {"localhost/app", "localhost", "app", "latest", "localhost/app:latest"},
      {"[::1]:5000/app:v1.2", "[::1]:5000", "app", "v1.2",
       "[::1]:5000/app:v1.2"},
      {"ghcr.io/org/sub/image:tag_1", "ghcr.io", "org/sub/image", "tag_1",
       "ghcr.io/org/sub/image:tag_1"},
  };
  for (const auto& c : cases) {
    INFO(c.text);
    Reference reference = Reference::parse(c.text);
    CHECK(reference.registry == c.registry);
    CHECK(reference.repository == c.repository);
    CHECK(reference.tag == c.tag);
    CHECK_FALSE(reference.digest);
    CHECK(reference.str() == c.full);
  }
}

TEST_CASE("references may pin a digest", "[oci][reference]") {
  std::string hex(64, 'a');
  Reference pinned = Reference::parse("127.0.0.1:5000/app@sha256:" + hex);
  REQUIRE(pinned.digest);
  CHECK(pinned.digest->hex() == hex);
  CHECK(pinned.tag.empty());
  CHECK(pinned.manifestReference() == "sha256:" + hex);

  Reference both = Reference::parse("node:20@sha256:" + hex);
  CHECK(both.tag == "20");
  REQUIRE(both.digest);
  CHECK(both.manifestReference() == "sha256:" + hex);
  CHECK(both.str() == "docker.io/library/node:20@sha256:" + hex);
}

TEST_CASE("docker.io uses the registry-1 API host", "[oci][reference]") {
  CHECK(Reference::parse("node").apiHost() == "registry-1.docker.io");
  CHECK(Reference::parse("127.0.0.1:5000/x").apiHost() == "127.0.0.1:5000");
}

TEST_CASE("invalid references are rejected", "[oci][reference]") {
  for (const char* text :
       {"", "Node:20", "node:", "node@sha256:abc", "node@md5:", "a//b",
        "127.0.0.1:5000/App:1", "node:-x", "-node", "node:20@sha256:"}) {
    INFO(text);
    CHECK_THROWS_AS(Reference::parse(text), kiln::UsageError);
  }
  try {
    Reference::parse("Node:20");
    FAIL("no exception");
  } catch (const kiln::UsageError& error) {
    CHECK_THAT(error.what(), Catch::Contains("lower-case"));
    CHECK_THAT(error.hint(), Catch::Contains("REGISTRY"));
  }
}
