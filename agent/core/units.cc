#include "core/units.h"

#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace waitscope {
namespace {

// Three significant digits; the digit count is chosen after rounding so
// 9.996 becomes "10.0", not "10.00".
std::string ThreeDigits(double v) {
  char buf[48];
  for (int decimals = 2; decimals > 0; --decimals) {
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    const double rounded = std::strtod(buf, nullptr);
    if (rounded < (decimals == 2 ? 10.0 : 100.0)) return buf;
  }
  std::snprintf(buf, sizeof buf, "%.0f", v);
  return buf;
}

}  // namespace

std::string FormatDuration(std::uint64_t ns) {
  if (ns < 1000) return std::to_string(ns) + "ns";
  struct Unit {
    double scale;
    const char* suffix;
  };
  static constexpr std::array<Unit, 3> kUnits = {{{1e3, "µs"}, {1e6, "ms"}, {1e9, "s"}}};
  for (std::size_t i = 0; i < kUnits.size(); ++i) {
    const std::string digits = ThreeDigits(static_cast<double>(ns) / kUnits[i].scale);
    // 999'999ns rounds to "1000µs": say "1.00ms" instead.
    const bool last = i + 1 == kUnits.size();
    if (!last && std::strtod(digits.c_str(), nullptr) >= 1000.0) continue;
    return digits + kUnits[i].suffix;
  }
  return "?";  // unreachable: the last unit always returns
}

std::string FormatSeconds(double seconds) {
  if (!std::isfinite(seconds) || seconds <= 0) return FormatDuration(0);
  const double ns = seconds * 1e9;
  if (ns >= 1.8e19) return FormatDuration(UINT64_MAX);
  return FormatDuration(static_cast<std::uint64_t>(std::llround(ns)));
}

}  // namespace waitscope
