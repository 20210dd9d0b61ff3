// UTF-8 validation for strings that come from traced processes (names,
// paths, symbols, statements): bytes of any kind. Every output format that
// requires UTF-8 (JSON, XML, the terminal, Prometheus text, protobuf
// `string` fields) goes through these, because one bad byte makes a reader
// refuse the whole document: a Prometheus scrape, an OTLP request.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace waitscope {

inline constexpr std::string_view kUtf8Replacement = "\xEF\xBF\xBD";  // U+FFFD

// Length (1-4) of the well-formed UTF-8 sequence at the start of `s`, and
// its code point in *cp; 0 if there is none (RFC 3629: no overlong forms, no
// surrogates, nothing above U+10FFFF; a truncated sequence is not one).
std::size_t DecodeUtf8(std::string_view s, std::uint32_t* cp);

bool IsValidUtf8(std::string_view s);

// `s` with each byte that starts no well-formed sequence replaced by U+FFFD.
// Valid input comes back unchanged.
std::string ToValidUtf8(std::string_view s);

// Number of code points in valid UTF-8 (counts the bytes that are not
// continuation bytes).
std::size_t Utf8Length(std::string_view utf8);

// The first `n` code points of valid UTF-8 (all of it when it has fewer).
std::string_view Utf8Prefix(std::string_view utf8, std::size_t n);

}  // namespace waitscope
