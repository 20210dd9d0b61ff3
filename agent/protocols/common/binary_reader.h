// Bounds-checked reading of a byte buffer for wire-protocol parsers. Every
// read checks the remaining length and fails (returns false / nullopt)
// instead of reading past the end; nothing here can crash on hostile input.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace waitscope::protocols {

class BinaryReader {
 public:
  explicit BinaryReader(std::string_view data) : data_(data) {}

  std::size_t remaining() const { return data_.size() - pos_; }
  std::size_t position() const { return pos_; }
  bool empty() const { return remaining() == 0; }
  std::string_view rest() const { return data_.substr(pos_); }

  std::optional<std::uint8_t> U8() {
    if (remaining() < 1) return std::nullopt;
    return static_cast<std::uint8_t>(data_[pos_++]);
  }
  // Big-endian (network order), as PostgreSQL uses.
  std::optional<std::uint16_t> U16Be() { return Uint<std::uint16_t>(2, true); }
  std::optional<std::uint32_t> U32Be() { return Uint<std::uint32_t>(4, true); }
  // Little-endian, as MySQL uses.
  std::optional<std::uint16_t> U16Le() { return Uint<std::uint16_t>(2, false); }
  std::optional<std::uint32_t> U24Le() { return Uint<std::uint32_t>(3, false); }
  std::optional<std::uint32_t> U32Le() { return Uint<std::uint32_t>(4, false); }
  std::optional<std::uint64_t> U64Le() { return Uint<std::uint64_t>(8, false); }

  std::optional<std::string_view> Bytes(std::size_t n) {
    if (remaining() < n) return std::nullopt;
    std::string_view out = data_.substr(pos_, n);
    pos_ += n;
    return out;
  }
  // A NUL-terminated string (the NUL is consumed, not returned).
  std::optional<std::string_view> CString() {
    std::size_t end = data_.find('\0', pos_);
    if (end == std::string_view::npos) return std::nullopt;
    std::string_view out = data_.substr(pos_, end - pos_);
    pos_ = end + 1;
    return out;
  }
  bool Skip(std::size_t n) {
    if (remaining() < n) return false;
    pos_ += n;
    return true;
  }

 private:
  template <typename T>
  std::optional<T> Uint(std::size_t n, bool big_endian) {
    if (remaining() < n) return std::nullopt;
    T v = 0;
    for (std::size_t i = 0; i < n; ++i) {
      auto b = static_cast<T>(static_cast<std::uint8_t>(data_[pos_ + (big_endian ? i : n - 1 - i)]));
      v = static_cast<T>((v << 8) | b);
    }
    pos_ += n;
    return v;
  }

  std::string_view data_;
  std::size_t pos_ = 0;
};

}  // namespace waitscope::protocols
