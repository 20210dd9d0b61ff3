#include "export/value_format.h"

#include <charconv>

namespace waitscope {
namespace {

std::string ThreeDigits(double v, const char* unit) {
  const int digits = v < 10 ? 2 : v < 100 ? 1 : 0;
  return FormatFixed(v, digits) + " " + unit;
}

}  // namespace

std::string FormatFixed(double value, int digits) {
  char buf[64];
  const auto res = std::to_chars(buf, buf + sizeof(buf), value, std::chars_format::fixed, digits);
  // Only values beyond 1e60 overflow the buffer; none of ours get there.
  if (res.ec != std::errc()) return "?";
  return std::string(buf, res.ptr);
}

std::string FormatValue(std::uint64_t value, ValueUnit unit) {
  if (unit == ValueUnit::kCount) return std::to_string(value);
  const auto v = static_cast<double>(value);
  if (value < 1000) return std::to_string(value) + " ns";
  if (v < 1e6) return ThreeDigits(v / 1e3, "\xC2\xB5s");  // µs
  if (v < 1e9) return ThreeDigits(v / 1e6, "ms");
  return ThreeDigits(v / 1e9, "s");
}

}  // namespace waitscope
