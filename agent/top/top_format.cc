#include "top/top_format.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "core/units.h"
#include "report/display_text.h"

namespace waitscope::top {

std::string FormatCount(double n) {
  if (!std::isfinite(n) || n < 0) n = 0;
  char buf[32];
  if (n < 999.5) {
    // Rates below 10 keep one decimal so a slow trickle does not read as 0.
    if (n > 0 && n < 9.95 && std::floor(n) != n) {
      std::snprintf(buf, sizeof buf, "%.1f", n);
    } else {
      std::snprintf(buf, sizeof buf, "%.0f", n);
    }
    return buf;
  }
  static constexpr const char* kSuffix[] = {"k", "M", "G", "T", "P"};
  double v = n;
  for (const char* suffix : kSuffix) {
    v /= 1000.0;
    if (v < 9.995) {
      std::snprintf(buf, sizeof buf, "%.2f%s", v, suffix);
      return buf;
    }
    if (v < 99.95) {
      std::snprintf(buf, sizeof buf, "%.1f%s", v, suffix);
      return buf;
    }
    if (v < 999.5) {
      std::snprintf(buf, sizeof buf, "%.0f%s", v, suffix);
      return buf;
    }
  }
  return "huge";
}

std::string FormatRate(std::uint64_t n, double seconds) {
  if (!(seconds > 0) || n == 0) return "0";
  return FormatCount(static_cast<double>(n) / seconds);
}

std::string FormatTimeRate(std::uint64_t ns, double seconds) {
  if (!(seconds > 0) || ns == 0) return "0";
  return FormatSeconds(static_cast<double>(ns) / 1e9 / seconds);
}

std::string FormatPercent(double share) {
  if (!std::isfinite(share)) share = 0;
  share = std::clamp(share, 0.0, 100.0);
  char buf[16];
  std::snprintf(buf, sizeof buf, "%.0f%%", share);
  return buf;
}

std::string FormatMicros(double us, std::uint64_t count) {
  if (count == 0) return "-";
  return FormatSeconds(us / 1e6);
}

std::string FormatUptime(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) seconds = 0;
  const auto s = static_cast<std::uint64_t>(seconds);
  char buf[32];
  if (s < 60) {
    std::snprintf(buf, sizeof buf, "%llus", static_cast<unsigned long long>(s));
  } else if (s < 3600) {
    std::snprintf(buf, sizeof buf, "%llum%02llus", static_cast<unsigned long long>(s / 60),
                  static_cast<unsigned long long>(s % 60));
  } else {
    std::snprintf(buf, sizeof buf, "%lluh%02llum", static_cast<unsigned long long>(s / 3600),
                  static_cast<unsigned long long>(s / 60 % 60));
  }
  return buf;
}

}  // namespace waitscope::top
