#include "core/duration.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <string>

namespace waitscope {
namespace {

constexpr double kMaxNs = 100.0 * 86400 * 1e9;

Result<std::uint64_t> Parse(std::string_view text, bool bare_is_seconds) {
  const std::string shown(text);
  std::size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.'))
    ++i;
  std::string_view number = text.substr(0, i);
  std::string_view unit = text.substr(i);
  double value = 0;
  auto [ptr, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
  if (number.empty() || ec != std::errc() || ptr != number.data() + number.size() ||
      !std::isfinite(value)) {
    return Error{"'" + shown + "' is not a duration (examples: 500us, 1ms, 2.5s)"};
  }
  double scale = 0;
  if (unit.empty()) {
    if (value == 0) return std::uint64_t{0};
    if (!bare_is_seconds) {
      // "5." -> "5ms"; no example when even milliseconds would be too long.
      std::string example(number.ends_with('.') ? number.substr(0, number.size() - 1) : number);
      return Error{"'" + shown + "' needs a unit (ns, us, ms, s)" +
                   (value * 1e6 <= kMaxNs ? ", for example " + example + "ms" : std::string())};
    }
    scale = 1e9;
  } else if (unit == "ns") {
    scale = 1;
  } else if (unit == "us" || unit == "\u00b5s") {
    scale = 1e3;
  } else if (unit == "ms") {
    scale = 1e6;
  } else if (unit == "s") {
    scale = 1e9;
  } else if (unit == "m") {
    scale = 60e9;
  } else if (unit == "h") {
    scale = 3600e9;
  } else {
    return Error{"'" + shown + "': unknown unit '" + std::string(unit) +
                 "' (use ns, us, ms, s, m or h)"};
  }
  const double ns = value * scale;
  if (ns > kMaxNs) return Error{"'" + shown + "' is too long (at most 100 days)"};
  // Not 0, which often means something else ("a stack for every wait").
  if (ns < 0.5 && value > 0) return Error{"'" + shown + "' is shorter than a nanosecond"};
  return static_cast<std::uint64_t>(std::llround(ns));
}

}  // namespace

Result<std::uint64_t> ParseDurationNs(std::string_view text) {
  return Parse(text, false);
}

Result<std::uint64_t> ParseSecondsOrDurationNs(std::string_view text) {
  return Parse(text, true);
}

std::string DurationSpelling(std::uint64_t ns) {
  if (ns == 0) return "0";
  struct Unit {
    std::uint64_t ns;
    const char* suffix;
  };
  static constexpr Unit kUnits[] = {{3600'000'000'000, "h"}, {60'000'000'000, "m"},
                                    {1'000'000'000, "s"},    {1'000'000, "ms"},
                                    {1'000, "us"},           {1, "ns"}};
  for (const Unit& unit : kUnits) {
    if (ns % unit.ns == 0) return std::to_string(ns / unit.ns) + unit.suffix;
  }
  return std::to_string(ns) + "ns";  // not reached: every ns divides by 1
}

}  // namespace waitscope
