#include "core/byte_size.h"

#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <string>

namespace waitscope {
namespace {

constexpr double kMaxBytes = 4611686018427387904.0;  // 2^62

struct Unit {
  std::string_view name;  // lower case
  double scale;
};

constexpr std::array<Unit, 14> kUnits = {{
    {"", 1},
    {"b", 1},
    {"k", 1e3},
    {"kb", 1e3},
    {"kib", 1024.0},
    {"m", 1e6},
    {"mb", 1e6},
    {"mib", 1024.0 * 1024},
    {"g", 1e9},
    {"gb", 1e9},
    {"gib", 1024.0 * 1024 * 1024},
    {"t", 1e12},
    {"tb", 1e12},
    {"tib", 1024.0 * 1024 * 1024 * 1024},
}};

bool UnitScale(std::string_view unit, double& scale) {
  std::string lower;
  for (char c : unit) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const Unit& u : kUnits) {
    if (u.name == lower) {
      scale = u.scale;
      return true;
    }
  }
  return false;
}

}  // namespace

Result<std::uint64_t> ParseByteSize(std::string_view text) {
  const std::string shown(text);
  std::size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.'))
    ++i;
  std::string_view number = text.substr(0, i);
  std::string_view unit = text.substr(i);
  while (!unit.empty() && unit.front() == ' ') unit.remove_prefix(1);
  double value = 0;
  auto [ptr, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
  if (number.empty() || ec != std::errc() || ptr != number.data() + number.size() ||
      !std::isfinite(value)) {
    return Error{"'" + shown + "' is not a size (examples: 4096, 64KiB, 256MiB, 1GB)"};
  }
  double scale = 0;
  if (!UnitScale(unit, scale)) {
    return Error{"'" + shown + "': unknown unit '" + std::string(unit) +
                 "' (use B, KB, MB, GB, TB or KiB, MiB, GiB, TiB)"};
  }
  const double bytes = value * scale;
  if (bytes > kMaxBytes) return Error{"'" + shown + "' is too large"};
  return static_cast<std::uint64_t>(std::llround(bytes));
}

}  // namespace waitscope
