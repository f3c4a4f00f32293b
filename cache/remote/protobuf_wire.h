#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace kiln {

/// The protobuf wire types kiln reads and writes. Groups (3 and 4) are
/// deprecated in proto3 and are treated as malformed input.
enum class WireType : std::uint8_t {
  kVarint = 0,
  kFixed64 = 1,
  kLengthDelimited = 2,
  kFixed32 = 5,
};

/// Appends protobuf fields in wire format to a byte string. Only the field
/// kinds that REAPI's ActionResult needs are offered: varints, and
/// length-delimited strings, bytes and nested messages.
class ProtoWriter {
 public:
  /// Appends a varint field (int32, int64, uint64 or bool). Negative int32
  /// and int64 values must be passed sign-extended to 64 bits, as protobuf
  /// encodes them.
  void writeVarint(std::uint32_t field, std::uint64_t value);

  /// Appends a length-delimited field: a string, bytes or an encoded message.
  void writeBytes(std::uint32_t field, std::string_view bytes);

  /// The bytes written so far.
  const std::string& bytes() const { return bytes_; }

 private:
  void appendVarint(std::uint64_t value);

  std::string bytes_;
};

/// One field read from a protobuf message.
struct ProtoField {
  std::uint32_t number = 0;
  WireType type = WireType::kVarint;
  std::uint64_t varint = 0;  // for kVarint, kFixed64 and kFixed32
  std::string_view bytes;    // for kLengthDelimited, a view into the input
};

/// Reads the fields of one encoded protobuf message in order. It does not
/// copy the input, which must outlive the reader and the fields it returns.
class ProtoReader {
 public:
  explicit ProtoReader(std::string_view input) : input_(input) {}

  /// Reads the next field into `field`. Returns false at the end of the
  /// input, and also on malformed input, which error() then describes.
  bool next(ProtoField* field);

  /// Describes the first malformed byte sequence, or is empty.
  const std::string& error() const { return error_; }

 private:
  bool readVarint(std::uint64_t* value);
  bool fail(std::string message);

  std::string_view input_;
  std::size_t offset_ = 0;
  std::string error_;
};

}  // namespace kiln
