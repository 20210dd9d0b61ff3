// Spelling suggestions for config keys: "exprots" -> "exports".
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace waitscope::config {

// The candidate closest to `word` by edit distance (insertions, deletions,
// substitutions and swaps of neighbours count one each), if it is close enough
// to be a plausible typo: at most 1 edit for words up to 4 characters, 2 above,
// 3 above 10. Empty when nothing is that close.
std::string ClosestMatch(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace waitscope::config
