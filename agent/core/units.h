// Human-readable units for the text outputs (report summary, CLI messages).
// Contract: FormatDuration prints at most 3 significant digits with a unit
// suffix (ns, µs, ms, s), never more than 4 integer digits below seconds, so
// table columns stay narrow; µs is UTF-8 (one display column, two bytes).
#pragma once

#include <cstdint>
#include <string>

namespace waitscope {

// 0 -> "0ns", 999 -> "999ns", 1500 -> "1.50µs", 2'345'678 -> "2.35ms",
// 61'000'000'000 -> "61.0s", 3'600'000'000'000 -> "3600s".
std::string FormatDuration(std::uint64_t ns);

// Seconds as a double (report.duration_s); negative or non-finite print as "0ns".
std::string FormatSeconds(double seconds);

}  // namespace waitscope
