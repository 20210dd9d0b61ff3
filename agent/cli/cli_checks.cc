#include "cli/cli_checks.h"

#include <charconv>
#include <cstdint>
#include <optional>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace waitscope::cli {
namespace {

constexpr std::uint64_t kPidMaxLimit = std::uint64_t{1} << 22;

// Digits only: no sign, no spaces, no unit, and not too large for 64 bits.
std::optional<std::uint64_t> ParseWhole(std::string_view text) {
  std::uint64_t value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || text.front() == '-' || ec != std::errc() || ptr != end) return std::nullopt;
  return value;
}

}  // namespace

CLI::Validator PidCheck() {
  return CLI::Validator(
      [](std::string& value) -> std::string {
        const std::optional<std::uint64_t> pid = ParseWhole(value);
        if (!pid || *pid == 0 || *pid > kPidMaxLimit) {
          return "'" + value + "' is not a process ID (a whole number from 1 to " +
                 std::to_string(kPidMaxLimit) + ")";
        }
        return {};
      },
      "PID");
}

CLI::Validator CountCheck(std::string zero_means) {
  return CLI::Validator(
      [zero_means = std::move(zero_means)](std::string& value) -> std::string {
        if (!ParseWhole(value)) {
          return "'" + value + "' is not a count (a whole number, 0 or more; 0: " + zero_means +
                 ")";
        }
        return {};
      },
      "N");
}

CLI::Validator WholeNumberCheck(std::uint64_t min, std::uint64_t max, std::string what) {
  return CLI::Validator(
      [min, max, what = std::move(what)](std::string& value) -> std::string {
        const std::optional<std::uint64_t> n = ParseWhole(value);
        if (!n || *n < min || *n > max) {
          return "'" + value + "' is not " + what + " (a whole number from " + std::to_string(min) +
                 " to " + std::to_string(max) + ")";
        }
        value = std::to_string(*n);  // "010" is ten: CLI11 would read it as octal
        return {};
      },
      "N");
}

CLI::Validator NonEmptyPathCheck(std::string type_name) {
  return CLI::Validator(
      [](std::string& value) -> std::string {
        return value.empty() ? "an empty path names nothing" : std::string();
      },
      std::move(type_name));
}

std::string UnknownSubcommand(int argc, char** argv, const CLI::App& app) {
  std::vector<std::string> known;
  for (const CLI::App* sub : app.get_subcommands({})) known.push_back(sub->get_name());
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--") return {};
    if (arg.starts_with('-')) continue;  // the top level's flags take no value
    for (const std::string& k : known) {
      if (arg == k) return {};
    }
    std::string list;
    for (const std::string& k : known) {
      if (!list.empty()) list += ", ";
      list += k;
    }
    return "unknown command '" + std::string(arg) + "' (commands: " + list + ")";
  }
  return {};
}

}  // namespace waitscope::cli
