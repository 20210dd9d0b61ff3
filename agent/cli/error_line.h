// The one line every error of the command line is: "waitscope: error: ...".
// Messages quote what a user typed or a traced process chose (paths, values,
// names), so the line is made safe for a terminal first: no control
// characters (an escape sequence or a newline in a value would recolour the
// screen or break the one-line promise), valid UTF-8, and a bounded length.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace waitscope::cli {

// Longest error line, in characters; longer ones keep their head and tail.
inline constexpr std::size_t kMaxErrorColumns = 400;

// "waitscope: error: " + the sanitized message, to stderr.
void PrintError(std::string_view message);

// PrintError, then the exit code of a failed command (1).
int Fail(std::string_view message);

}  // namespace waitscope::cli
