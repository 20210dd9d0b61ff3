#include "export/value_format.h"

#include <charconv>

#include "core/units.h"

namespace waitscope {

std::string FormatFixed(double value, int digits) {
  char buf[64];
  const auto res = std::to_chars(buf, buf + sizeof(buf), value, std::chars_format::fixed, digits);
  // Only values beyond 1e60 overflow the buffer; none of ours get there.
  if (res.ec != std::errc()) return "?";
  return std::string(buf, res.ptr);
}

std::string FormatValue(std::uint64_t value, ValueUnit unit) {
  // One duration format for every output (report.txt, the SVG, the live view).
  if (unit == ValueUnit::kCount) return std::to_string(value);
  return FormatDuration(value);
}

}  // namespace waitscope
