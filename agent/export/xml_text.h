// XML text helpers for the SVG writer. Frame names come from symbol tables,
// /proc and traced payloads, so they can hold any bytes; a single invalid
// UTF-8 sequence or control character makes a browser reject the whole
// document. These functions turn arbitrary bytes into text that is always
// valid inside XML 1.0 content and attribute values.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace waitscope {

// Returns valid UTF-8 holding only characters XML 1.0 allows: each byte that
// is not part of a well-formed UTF-8 sequence (overlong forms and surrogates
// included) and each disallowed code point (C0 controls, U+FFFE, U+FFFF)
// becomes U+FFFD; tab, CR and LF become a space because labels are one line.
std::string SanitizeUtf8ForXml(std::string_view bytes);

// SanitizeUtf8ForXml, then &, <, >, " and ' as entities.
std::string XmlEscape(std::string_view bytes);

}  // namespace waitscope
