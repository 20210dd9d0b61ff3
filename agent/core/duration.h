// Parsing of durations typed by people ("1ms", "250us", "2.5s", "0").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"

namespace waitscope {

// Accepts a non-negative number followed by ns, us, µs, ms, s, m or h. A bare
// number is rejected (is "5" seconds or milliseconds?) except 0, and so is
// anything above 100 days. The error says what was wrong with `text`.
Result<std::uint64_t> ParseDurationNs(std::string_view text);

// Like ParseDurationNs, but a bare number means seconds (for --duration).
Result<std::uint64_t> ParseSecondsOrDurationNs(std::string_view text);

// The exact spelling of ns in the largest unit that divides it, one that
// ParseDurationNs reads back: 86'400'000'000'000 -> "24h", 1'000'000'000 ->
// "1s", 1'500'000 -> "1500us". For limits in messages, where FormatDuration's
// rounded "1.00s" would not match what the docs and the user write.
std::string DurationSpelling(std::uint64_t ns);

}  // namespace waitscope
