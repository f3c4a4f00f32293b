#include <catch2/catch.hpp>

#include "cache/remote/action_result.h"
#include "cache/remote/protobuf_wire.h"

using namespace kiln;

namespace {

RemoteActionEntry sampleEntry() {
  RemoteActionEntry entry;
  entry.manifest = sha256("{\"outputs\":[]}");
  entry.manifestSize = 14;
  return entry;
}

// A Digest message as REAPI encodes it: hash = 1, size_bytes = 2.
std::string digestMessage(const std::string& hash, std::uint64_t size) {
  ProtoWriter writer;
  writer.writeBytes(1, hash);
  writer.writeVarint(2, size);
  return writer.bytes();
}

}  // namespace

TEST_CASE("action result round trip without signature", "[action_result]") {
  RemoteActionEntry entry = sampleEntry();
  std::string bytes = encodeActionResult(entry);

  RemoteActionEntry decoded;
  std::string error;
  REQUIRE(decodeActionResult(bytes, &decoded, &error));
  CHECK(decoded == entry);
  CHECK(decoded.signature.empty());
}

TEST_CASE("action result round trip with signature", "[action_result]") {
  RemoteActionEntry entry = sampleEntry();
  entry.signature = std::string(64, '\x5a');
  entry.signature[0] = '\0';  // binary bytes survive

  RemoteActionEntry decoded;
  std::string error;
  REQUIRE(decodeActionResult(encodeActionResult(entry), &decoded, &error));
  CHECK(decoded == entry);
}

TEST_CASE("action result keeps a zero manifest size", "[action_result]") {
  RemoteActionEntry entry = sampleEntry();
  entry.manifest = sha256("");
  entry.manifestSize = 0;

  RemoteActionEntry decoded;
  decoded.manifestSize = 99;
  std::string error;
  REQUIRE(decodeActionResult(encodeActionResult(entry), &decoded, &error));
  CHECK(decoded.manifestSize == 0);
  CHECK(decoded.manifest == entry.manifest);
}

TEST_CASE("action result skips fields that servers add", "[action_result]") {
  // bazel-remote re-encodes the ActionResult and sets
  // execution_metadata.worker (field 9, field 1), and other clients may set
  // exit_code (4) or stdout_digest (6).
  RemoteActionEntry entry = sampleEntry();
  ProtoWriter metadata;
  metadata.writeBytes(1, "127.0.0.1");
  ProtoWriter extra;
  extra.writeVarint(4, 0);
  extra.writeBytes(6, digestMessage(std::string(64, 'a'), 3));
  extra.writeBytes(9, metadata.bytes());

  std::string bytes = extra.bytes() + encodeActionResult(entry) + extra.bytes();
  RemoteActionEntry decoded;
  std::string error;
  REQUIRE(decodeActionResult(bytes, &decoded, &error));
  CHECK(decoded == entry);
}

TEST_CASE("action result ignores other output files", "[action_result]") {
  ProtoWriter other;
  other.writeBytes(1, "bazel-out/k8-fastbuild/bin/app");
  other.writeBytes(2, digestMessage(std::string(64, 'b'), 10));
  ProtoWriter result;
  result.writeBytes(2, other.bytes());

  RemoteActionEntry decoded;
  std::string error;
  std::string bytes = result.bytes() + encodeActionResult(sampleEntry());
  REQUIRE(decodeActionResult(bytes, &decoded, &error));
  CHECK(decoded == sampleEntry());

  // Without kiln's manifest file, the entry is not kiln's.
  CHECK_FALSE(decodeActionResult(result.bytes(), &decoded, &error));
  CHECK_THAT(error, Catch::Contains("kiln-result.json"));
}

TEST_CASE("action result rejects malformed entries", "[action_result]") {
  RemoteActionEntry decoded;
  std::string error;

  SECTION("empty input has no manifest") {
    CHECK_FALSE(decodeActionResult("", &decoded, &error));
    CHECK_THAT(error, Catch::Contains("no OutputFile"));
  }
  SECTION("garbage") {
    CHECK_FALSE(decodeActionResult("\x12\x40garbage", &decoded, &error));
    CHECK_THAT(error, Catch::Contains("malformed ActionResult"));
  }
  SECTION("hash that is not hexadecimal") {
    ProtoWriter file;
    file.writeBytes(1, "kiln-result.json");
    file.writeBytes(2, digestMessage("not-a-hash", 3));
    ProtoWriter result;
    result.writeBytes(2, file.bytes());
    CHECK_FALSE(decodeActionResult(result.bytes(), &decoded, &error));
    CHECK_THAT(error, Catch::Contains("64 hexadecimal"));
  }
  SECTION("negative size") {
    ProtoWriter file;
    file.writeBytes(1, "kiln-result.json");
    file.writeBytes(2, digestMessage(std::string(64, 'c'), ~0ull));
    ProtoWriter result;
    result.writeBytes(2, file.bytes());
    CHECK_FALSE(decodeActionResult(result.bytes(), &decoded, &error));
    CHECK_THAT(error, Catch::Contains("negative"));
  }
  SECTION("signature contents that do not match their digest") {
    RemoteActionEntry entry = sampleEntry();
    entry.signature = std::string(64, 's');
    std::string bytes = encodeActionResult(entry);
    // Flip one byte of the inline contents, which come last.
    bytes[bytes.size() - 1] = 't';
    CHECK_FALSE(decodeActionResult(bytes, &decoded, &error));
    CHECK_THAT(error, Catch::Contains("does not match its contents"));
  }
}
