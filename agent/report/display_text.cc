#include "report/display_text.h"

#include <cstdint>

#include "core/utf8.h"

namespace waitscope {
namespace {

constexpr std::string_view kEllipsis = "\xE2\x80\xA6";  // U+2026

bool IsControl(std::uint32_t cp) {
  return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F);
}

}  // namespace

std::string SanitizeForTerminal(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  std::size_t i = 0;
  while (i < s.size()) {
    std::uint32_t cp = 0;
    const std::size_t len = DecodeUtf8(s.substr(i), &cp);
    if (len == 0) {
      out += kUtf8Replacement;
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
  return Utf8Length(s);
}

std::string TruncateMiddle(std::string_view s, std::size_t width) {
  const std::size_t length = Utf8Length(s);
  if (length <= width) return std::string(s);
  if (width == 0) return {};
  const std::size_t keep = width - 1;  // one column for the ellipsis
  const std::size_t head = keep / 2;
  const std::size_t tail = keep - head;
  std::string out(Utf8Prefix(s, head));
  out += kEllipsis;
  out.append(s.substr(Utf8Prefix(s, length - tail).size()));
  return out;
}

std::string TruncateEnd(std::string_view s, std::size_t width) {
  if (DisplayWidth(s) <= width) return std::string(s);
  if (width == 0) return {};
  std::string out(Utf8Prefix(s, width - 1));
  out += kEllipsis;
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
