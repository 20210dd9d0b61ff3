// Folded stacks: the `root;caller;callee value` text format of flamegraph.pl,
// inferno, speedscope and Pyroscope's /ingest. One line per unique stack.
//
// Contract of the writer:
//  - frame names are sanitized first (SanitizeFoldedFrame), because ';' and
//    line breaks are the format's separators and cannot be escaped;
//  - stacks that are equal after sanitizing are merged (values summed,
//    saturating at UINT64_MAX) and lines are sorted bytewise, so the same
//    input always gives the same file;
//  - stacks with no frames or a zero value are left out: the format has no way
//    to write a frameless stack, and zero lines carry nothing.
// The reader accepts what the writer produces and what the other tools above
// write (LF or CRLF line ends, blank lines); it does not merge duplicates.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/stack.h"

namespace waitscope {

// ';' becomes ':' and '\r', '\n' become ' '; everything else is kept as is.
std::string SanitizeFoldedFrame(std::string_view frame);

std::string FoldedToString(const std::vector<FoldedStack>& stacks);
Status WriteFolded(const std::vector<FoldedStack>& stacks, const std::string& path);

// Each line's value is the text after its last space (a decimal integer that
// fits in 64 bits); frames are the text before it, split on ';'. An error
// names the first bad line (1-based).
Result<std::vector<FoldedStack>> ParseFolded(std::string_view text);

}  // namespace waitscope
