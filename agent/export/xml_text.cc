#include "export/xml_text.h"

#include <cstdint>

#include "core/utf8.h"

namespace waitscope {

std::string SanitizeUtf8ForXml(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  while (!bytes.empty()) {
    std::uint32_t cp = 0;
    const std::size_t len = DecodeUtf8(bytes, &cp);
    if (len == 0) {
      out += kUtf8Replacement;
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
        out += kUtf8Replacement;
      } else {
        out += c;
      }
    } else if (cp == 0xFFFE || cp == 0xFFFF) {  // not XML characters
      out += kUtf8Replacement;
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

}  // namespace waitscope
