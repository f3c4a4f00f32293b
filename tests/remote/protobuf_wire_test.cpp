#include <catch2/catch.hpp>

#include "cache/remote/protobuf_wire.h"

using namespace kiln;

namespace {

std::string bytes(std::initializer_list<int> values) {
  std::string text;
  for (int value : values) {
    text.push_back(static_cast<char>(value));
  }
  return text;
}

}  // namespace

TEST_CASE("protobuf varint encoding matches spec", "[protobuf]") {
  // Expected bytes from the protobuf encoding guide's examples: field 1
  // with value 150 is 08 96 01.
  ProtoWriter writer;
  writer.writeVarint(1, 150);
  CHECK(writer.bytes() == bytes({0x08, 0x96, 0x01}));

  ProtoWriter zero;
  zero.writeVarint(2, 0);
  CHECK(zero.bytes() == bytes({0x10, 0x00}));

  ProtoWriter text;
  text.writeBytes(2, "testing");
  CHECK(text.bytes() == bytes({0x12, 0x07}) + "testing");
}

TEST_CASE("protobuf reader reads back written fields", "[protobuf]") {
  const std::uint64_t values[] = {
      0, 1, 127, 128, 300, 1ull << 32, 0xffffffffffffffffull};
  ProtoWriter writer;
  for (std::uint64_t value : values) {
    writer.writeVarint(7, value);
  }
  writer.writeBytes(536870911, std::string(300, 'x'));  // largest field

  ProtoReader reader(writer.bytes());
  ProtoField field;
  for (std::uint64_t value : values) {
    REQUIRE(reader.next(&field));
    CHECK(field.number == 7);
    CHECK(field.type == WireType::kVarint);
    CHECK(field.varint == value);
  }
  REQUIRE(reader.next(&field));
  CHECK(field.number == 536870911);
  CHECK(field.type == WireType::kLengthDelimited);
  CHECK(field.bytes == std::string(300, 'x'));
  CHECK_FALSE(reader.next(&field));
  CHECK(reader.error().empty());
}

TEST_CASE("protobuf reader reads fixed-width fields", "[protobuf]") {
  // Field 3 as fixed32 (wire type 5), field 4 as fixed64 (wire type 1).
  std::string input =
      bytes({0x1d, 0x01, 0x02, 0x03, 0x04, 0x21, 0x01, 0, 0, 0, 0, 0, 0, 0x80});
  ProtoReader reader(input);
  ProtoField field;
  REQUIRE(reader.next(&field));
  CHECK(field.type == WireType::kFixed32);
  CHECK(field.varint == 0x04030201u);
  REQUIRE(reader.next(&field));
  CHECK(field.type == WireType::kFixed64);
  CHECK(field.varint == 0x8000000000000001ull);
  CHECK_FALSE(reader.next(&field));
  CHECK(reader.error().empty());
}

TEST_CASE("protobuf reader rejects malformed input", "[protobuf]") {
  struct Case {
    const char* name;
    std::string input;
    const char* error;
  };
  const Case cases[] = {
      {"truncated varint", bytes({0x08, 0x96}), "truncated varint"},
      {"overlong varint",
       bytes({0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
              0x01}),
       "longer than 10 bytes"},
      {"length past end", bytes({0x12, 0x05, 'a', 'b'}), "past the end"},
      {"group wire type", bytes({0x0b}), "unsupported wire type 3"},
      {"field number zero", bytes({0x00, 0x01}), "invalid field number"},
      {"truncated fixed64", bytes({0x09, 0x01, 0x02}), "truncated fixed"},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    ProtoReader reader(c.input);
    ProtoField field;
    while (reader.next(&field)) {
    }
    CHECK_THAT(reader.error(), Catch::Contains(c.error));
  }
}
