#include "core/utf8.h"

namespace waitscope {

std::size_t DecodeUtf8(std::string_view s, std::uint32_t* cp) {
  if (s.empty()) return 0;
  const auto b = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  const unsigned char c = b(0);
  if (c < 0x80) {
    *cp = c;
    return 1;
  }
  std::size_t len = 0;
  std::uint32_t value = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
    value = c & 0x1F;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    value = c & 0x0F;
    if (c == 0xE0) lo = 0xA0;  // overlong
    if (c == 0xED) hi = 0x9F;  // surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    value = c & 0x07;
    if (c == 0xF0) lo = 0x90;  // overlong
    if (c == 0xF4) hi = 0x8F;  // above U+10FFFF
  } else {
    return 0;
  }
  if (s.size() < len || b(1) < lo || b(1) > hi) return 0;
  for (std::size_t i = 1; i < len; ++i) {
    if ((b(i) & 0xC0) != 0x80) return 0;
    value = (value << 6) | (b(i) & 0x3F);
  }
  *cp = value;
  return len;
}

bool IsValidUtf8(std::string_view s) {
  std::uint32_t cp = 0;
  while (!s.empty()) {
    // ASCII runs are the common case: no decode call per byte.
    if (static_cast<unsigned char>(s[0]) < 0x80) {
      s.remove_prefix(1);
      continue;
    }
    const std::size_t len = DecodeUtf8(s, &cp);
    if (len == 0) return false;
    s.remove_prefix(len);
  }
  return true;
}

std::string ToValidUtf8(std::string_view s) {
  if (IsValidUtf8(s)) return std::string(s);
  std::string out;
  out.reserve(s.size() + 8);
  std::uint32_t cp = 0;
  while (!s.empty()) {
    const std::size_t len = DecodeUtf8(s, &cp);
    if (len == 0) {
      out += kUtf8Replacement;
      s.remove_prefix(1);
    } else {
      out += s.substr(0, len);
      s.remove_prefix(len);
    }
  }
  return out;
}

namespace {

bool IsContinuation(unsigned char c) {
  return (c & 0xC0) == 0x80;
}

}  // namespace

std::size_t Utf8Length(std::string_view utf8) {
  std::size_t n = 0;
  for (char c : utf8) n += IsContinuation(static_cast<unsigned char>(c)) ? 0 : 1;
  return n;
}

std::string_view Utf8Prefix(std::string_view utf8, std::size_t n) {
  std::size_t seen = 0;
  for (std::size_t i = 0; i < utf8.size(); ++i) {
    if (!IsContinuation(static_cast<unsigned char>(utf8[i])) && seen++ == n) {
      return utf8.substr(0, i);
    }
  }
  return utf8;
}

}  // namespace waitscope
