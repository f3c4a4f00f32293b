#include "cache/remote/protobuf_wire.h"

namespace kiln {

namespace {

// A varint carries 7 bits a byte, so 64 bits need at most 10 bytes.
constexpr int kMaxVarintBytes = 10;

// Protobuf field numbers are at most 2^29 - 1.
constexpr std::uint64_t kMaxFieldNumber = (1u << 29) - 1;

}  // namespace

void ProtoWriter::appendVarint(std::uint64_t value) {
  while (value >= 0x80) {
    bytes_.push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  bytes_.push_back(static_cast<char>(value));
}

void ProtoWriter::writeVarint(std::uint32_t field, std::uint64_t value) {
  appendVarint((std::uint64_t{field} << 3) |
               static_cast<std::uint64_t>(WireType::kVarint));
  appendVarint(value);
}

void ProtoWriter::writeBytes(std::uint32_t field, std::string_view bytes) {
  appendVarint((std::uint64_t{field} << 3) |
               static_cast<std::uint64_t>(WireType::kLengthDelimited));
  appendVarint(bytes.size());
  bytes_.append(bytes);
}

bool ProtoReader::fail(std::string message) {
  error_ = std::move(message) + " at byte " + std::to_string(offset_);
  offset_ = input_.size();
  return false;
}

bool ProtoReader::readVarint(std::uint64_t* value) {
  std::uint64_t result = 0;
  for (int i = 0; i < kMaxVarintBytes; ++i) {
    if (offset_ >= input_.size()) {
      return fail("truncated varint");
    }
    auto byte = static_cast<std::uint8_t>(input_[offset_++]);
    result |= std::uint64_t{byte & 0x7fu} << (7 * i);
    if ((byte & 0x80) == 0) {
      *value = result;
      return true;
    }
  }
  return fail("varint longer than 10 bytes");
}

bool ProtoReader::next(ProtoField* field) {
  if (!error_.empty() || offset_ >= input_.size()) {
    return false;
  }

  std::uint64_t tag = 0;
  if (!readVarint(&tag)) {
    return false;
  }
  std::uint64_t number = tag >> 3;
  if (number == 0 || number > kMaxFieldNumber) {
    return fail("invalid field number " + std::to_string(number));
  }
  field->number = static_cast<std::uint32_t>(number);
  field->varint = 0;
  field->bytes = {};

  switch (tag & 7) {
    case 0:
      field->type = WireType::kVarint;
      return readVarint(&field->varint);
    case 1:
    case 5: {
      bool wide = (tag & 7) == 1;
      std::size_t width = wide ? 8 : 4;
      if (input_.size() - offset_ < width) {
        return fail("truncated fixed-width field");
      }
      for (std::size_t i = 0; i < width; ++i) {
        auto byte = static_cast<std::uint8_t>(input_[offset_ + i]);
        field->varint |= std::uint64_t{byte} << (8 * i);
      }
      offset_ += width;
      field->type = wide ? WireType::kFixed64 : WireType::kFixed32;
      return true;
    }
    case 2: {
      std::uint64_t length = 0;
      if (!readVarint(&length)) {
        return false;
      }
      if (length > input_.size() - offset_) {
        return fail("length-delimited field runs past the end");
      }
      field->type = WireType::kLengthDelimited;
      field->bytes = input_.substr(offset_, length);
      offset_ += length;
      return true;
    }
    default:
      return fail("unsupported wire type " + std::to_string(tag & 7));
  }
}

}  // namespace kiln
