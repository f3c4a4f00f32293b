// podman loads the docker-archive and runs the image.
#include <catch2/catch.hpp>

#include "core/oci/archive.h"
#include "tests/common/test_support.h"
#include "tests/oci/oci_test_support.h"

using namespace kiln::oci;
using kiln::test::run;
using kiln::test::RunResult;
using kiln::test::TempDir;

namespace {

// Runs a shell command with tests/support/podman.sh's configuration, whose
// kiln_podman wrapper adds --network=host to `run`.
RunResult podman(const TempDir& dir, const std::string& command) {
  std::string script =
      "source " + (test::sourceDir() / "tests/support/podman.sh").string() +
      " " + (dir / "podman").string() + " && " + command;
  return run({"bash", "-c", script}, dir.path());
}

}  // namespace

TEST_CASE("podman loads the docker-archive by name", "[oci][integration]") {
  TempDir dir;
  Layout layout = Layout::create(dir / "layout");
  test::buildAppImage(layout, "hello", Compression::gzip, "hello from kiln");
  writeDockerArchive(layout, "hello", "1.0", dir / "hello.tar");

  RunResult load =
      podman(dir, "kiln_podman load -i " + (dir / "hello.tar").string());
  INFO(load.output);
  REQUIRE(load.exitCode == 0);

  RunResult images =
      podman(dir, "kiln_podman images --format '{{.Repository}}:{{.Tag}}'");
  INFO(images.output);
  REQUIRE(images.exitCode == 0);
  CHECK_THAT(images.output, Catch::Contains("kiln/hello:1.0"));

  RunResult started = podman(dir, "kiln_podman run --rm kiln/hello:1.0");
  INFO(started.output);
  CHECK(started.exitCode == 0);
  CHECK_THAT(started.output, Catch::Contains("hello from kiln"));
}
