// Short number formats and line fitting for `waitscope top`. Contract: every
// function returns sanitized-width-safe text (ASCII, or UTF-8 from
// FormatDuration and the ellipsis) whose DisplayWidth is stated below, so the
// fixed-width columns of the live view never overflow.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace waitscope::top {

// 999 -> "999", 12'345 -> "12.3k", 4'200'000 -> "4.20M"; at most 5 columns.
std::string FormatCount(double n);

// Events per second over `seconds`, formatted like FormatCount ("0" when the
// window is empty).
std::string FormatRate(std::uint64_t n, double seconds);

// Time per second of wall clock, as a duration ("850ms" = 0.85 s blocked per
// second): at most 6 columns.
std::string FormatTimeRate(std::uint64_t ns, double seconds);

// 12.5 -> "12%"; clamped to [0, 100].
std::string FormatPercent(double share);

// Microseconds (report summaries) as FormatDuration; "-" when count is 0.
std::string FormatMicros(double us, std::uint64_t count);

// Uptime as "45s", "12m05s", "3h07m".
std::string FormatUptime(double seconds);

}  // namespace waitscope::top
