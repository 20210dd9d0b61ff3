// Human-readable values for flame graph labels and tooltips, e.g. 12345678 ns
// as "12.3 ms". Three significant digits: enough to compare frames by eye,
// short enough for a tooltip. Locale-independent ('.' decimal point always).
#pragma once

#include <cstdint>
#include <string>

namespace waitscope {

enum class ValueUnit {
  kCount,        // plain integer: "1234"
  kNanoseconds,  // "850 ns", "12.3 µs", "12.3 ms", "1.50 s"
};

std::string FormatValue(std::uint64_t value, ValueUnit unit);

// `digits` after the decimal point, e.g. FormatFixed(45.678, 2) == "45.68".
std::string FormatFixed(double value, int digits);

}  // namespace waitscope
