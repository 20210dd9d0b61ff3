#include "export/xml_text.h"

#include <cstdint>

namespace waitscope {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

bool IsContinuation(unsigned char c) {
  return (c & 0xC0) == 0x80;
}

// Length of the well-formed UTF-8 sequence at the start of `s` (RFC 3629
// table: no overlongs, no surrogates, nothing above U+10FFFF), or 0.
std::size_t SequenceLength(std::string_view s) {
  const auto b = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  const unsigned char c = b(0);
  if (c < 0x80) return 1;
  std::size_t len = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (s.size() < len || b(1) < lo || b(1) > hi) return 0;
  for (std::size_t i = 2; i < len; ++i) {
    if (!IsContinuation(b(i))) return 0;
  }
  return len;
}

}  // namespace

std::string SanitizeUtf8ForXml(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  while (!bytes.empty()) {
    const std::size_t len = SequenceLength(bytes);
    if (len == 0) {
      out += kReplacement;
      bytes.remove_prefix(1);
      continue;
    }
    const std::string_view seq = bytes.substr(0, len);
    bytes.remove_prefix(len);
    if (len == 1) {
      const char c = seq[0];
      if (c == '\t' || c == '\n' || c == '\r') {
        out += ' ';
      } else if (static_cast<unsigned char>(c) < 0x20) {
        out += kReplacement;
      } else {
        out += c;
      }
    } else if (seq == "\xEF\xBF\xBE" || seq == "\xEF\xBF\xBF") {  // U+FFFE, U+FFFF
      out += kReplacement;
    } else {
      out += seq;
    }
  }
  return out;
}

std::string XmlEscape(std::string_view bytes) {
  const std::string clean = SanitizeUtf8ForXml(bytes);
  std::string out;
  out.reserve(clean.size());
  for (char c : clean) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

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
