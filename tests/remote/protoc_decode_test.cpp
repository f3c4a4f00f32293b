#include <catch2/catch.hpp>

#include <cctype>
#include <sstream>

#include "cache/remote/action_result.h"
#include "cache/remote/signature.h"
#include "tests/common/test_support.h"
#include "util/atomic_file.h"

using namespace kiln;

namespace {

const std::string kProtocScript =
    std::string(KILN_REMOTE_TEST_DIR) + "/protoc.sh";

// protoc prints a field that the .proto does not name as "NUMBER: value".
bool hasUnnamedField(const std::string& text) {
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    std::size_t first = line.find_first_not_of(' ');
    if (first != std::string::npos && std::isdigit(line[first])) {
      return true;
    }
  }
  return false;
}

}  // namespace

TEST_CASE("protoc decodes kiln's ActionResult", "[protoc]") {
  test::TempDir dir;
  SigningKey key = SigningKey::generate();
  RemoteActionEntry entry;
  std::string manifest = "{\"outputs\":[]}";
  entry.manifest = sha256(manifest);
  entry.manifestSize = manifest.size();
  entry.signature = signActionEntry(key, sha256("action"), entry);
  writeFileAtomic(dir / "entry.bin", encodeActionResult(entry));

  test::RunResult result =
      test::run({"bash", kProtocScript, "decode", (dir / "entry.bin").string()},
                dir.path());
  INFO(result.output);
  REQUIRE(result.exitCode == 0);
  CHECK_THAT(result.output, Catch::Contains("output_files {"));
  CHECK_THAT(result.output, Catch::Contains("path: \"kiln-result.json\""));
  CHECK_THAT(result.output,
             Catch::Contains("hash: \"" + entry.manifest.hex() + "\""));
  CHECK_THAT(result.output, Catch::Contains("size_bytes: 14"));
  CHECK_THAT(result.output,
             Catch::Contains("path: \"kiln-signature.ed25519\""));
  CHECK_THAT(
      result.output,
      Catch::Contains("hash: \"" + sha256(entry.signature).hex() + "\""));
  CHECK_THAT(result.output, Catch::Contains("size_bytes: 64"));
  CHECK_THAT(result.output, Catch::Contains("contents: \""));
  CHECK_FALSE(hasUnnamedField(result.output));
}

TEST_CASE("decoder reads protoc-encoded ActionResult", "[protoc]") {
  // The form bazel-remote stores after it adds execution_metadata, with
  // the fields in another order and one that kiln does not use.
  test::TempDir dir;
  Digest manifest = sha256("manifest");
  std::string text =
      "execution_metadata { worker: \"127.0.0.1\" }\n"
      "exit_code: 0\n"
      "output_files {\n"
      "  digest { size_bytes: 8 hash: \"" +
      manifest.hex() +
      "\" }\n"
      "  path: \"kiln-result.json\"\n"
      "}\n";
  test::writeFile(dir / "entry.txt", text);

  test::RunResult result =
      test::run({"bash", kProtocScript, "encode", (dir / "entry.txt").string(),
                 (dir / "entry.bin").string()},
                dir.path());
  INFO(result.output);
  REQUIRE(result.exitCode == 0);

  RemoteActionEntry entry;
  std::string error;
  REQUIRE(
      decodeActionResult(test::readText(dir / "entry.bin"), &entry, &error));
  CHECK(entry.manifest == manifest);
  CHECK(entry.manifestSize == 8);
  CHECK(entry.signature.empty());
}
