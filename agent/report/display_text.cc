#include "report/display_text.h"

#include <cstdint>
#include <vector>

namespace waitscope {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD
constexpr std::string_view kEllipsis = "\xE2\x80\xA6";     // U+2026

// Length of the well-formed UTF-8 sequence starting at s[i] (rejecting
// overlong forms, surrogates and code points above U+10FFFF), or 0.
std::size_t SequenceLength(std::string_view s, std::size_t i, std::uint32_t* cp_out) {
  const auto c = static_cast<unsigned char>(s[i]);
  std::size_t len = 0;
  std::uint32_t cp = 0;
  if (c < 0x80) {
    *cp_out = c;
    return 1;
  } else if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
    cp = c & 0x1F;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    cp = c & 0x0F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  for (std::size_t k = 1; k < len; ++k) {
    const auto d = static_cast<unsigned char>(s[i + k]);
    if ((d & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (d & 0x3F);
  }
  if (len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) return 0;
  if (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) return 0;
  *cp_out = cp;
  return len;
}

bool IsControl(std::uint32_t cp) {
  return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F);
}

// Byte offsets where each code point of (valid UTF-8) `s` starts.
std::vector<std::size_t> CodePointStarts(std::string_view s) {
  std::vector<std::size_t> starts;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) starts.push_back(i);
  }
  return starts;
}

}  // namespace

std::string SanitizeForTerminal(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  std::size_t i = 0;
  while (i < s.size()) {
    std::uint32_t cp = 0;
    const std::size_t len = SequenceLength(s, i, &cp);
    if (len == 0) {
      out += kReplacement;
      ++i;  // resynchronise on the next byte, one U+FFFD per bad byte
      continue;
    }
    if (IsControl(cp)) {
      out += '?';
    } else {
      out.append(s.substr(i, len));
    }
    i += len;
  }
  return out;
}

std::size_t DisplayWidth(std::string_view s) {
  std::size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80 ? 1 : 0;
  return n;
}

std::string TruncateMiddle(std::string_view s, std::size_t width) {
  const std::vector<std::size_t> starts = CodePointStarts(s);
  if (starts.size() <= width) return std::string(s);
  if (width == 0) return {};
  const std::size_t keep = width - 1;  // one column for the ellipsis
  const std::size_t head = keep / 2;
  const std::size_t tail = keep - head;
  std::string out(s.substr(0, starts[head]));
  out += kEllipsis;
  if (tail > 0) out.append(s.substr(starts[starts.size() - tail]));
  return out;
}

std::string PadRight(std::string_view s, std::size_t width) {
  std::string out(s);
  const std::size_t w = DisplayWidth(s);
  if (w < width) out.append(width - w, ' ');
  return out;
}

std::string PadLeft(std::string_view s, std::size_t width) {
  const std::size_t w = DisplayWidth(s);
  std::string out = w < width ? std::string(width - w, ' ') : std::string();
  out += s;
  return out;
}

}  // namespace waitscope
