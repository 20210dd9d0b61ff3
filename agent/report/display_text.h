// Makes untrusted strings (process names, paths, peer names) safe and
// measurable for a terminal. Contract: SanitizeForTerminal returns valid UTF-8
// with no control characters (invalid bytes become U+FFFD, C0/DEL/C1 controls
// become '?'), so a crafted file name cannot move the cursor or recolour the
// screen; the width helpers assume sanitized input and count one column per
// code point (wide CJK glyphs are not special-cased).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace waitscope {

std::string SanitizeForTerminal(std::string_view s);

// Columns `s` occupies: its number of code points.
std::size_t DisplayWidth(std::string_view s);

// `s` if it fits in `width` columns, else its head and tail joined by "…"
// (the tail gets the extra column: the end of a path names the file).
std::string TruncateMiddle(std::string_view s, std::size_t width);

// `s` if it fits in `width` columns, else its first width - 1 code points
// and "…".
std::string TruncateEnd(std::string_view s, std::size_t width);

// `s` padded with spaces to `width` columns (unchanged when already wider).
std::string PadRight(std::string_view s, std::size_t width);
std::string PadLeft(std::string_view s, std::size_t width);

}  // namespace waitscope
