// Command-line checks shared by the subcommands, with messages a person
// reads: CLI11's own numeric checks print their limits as doubles ("Value abc
// not in range 0.000000 to 1797693...") and let "-5" wrap into a size_t.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>

namespace waitscope::cli {

// A process ID: a whole number from 1 to 2^22 (the kernel's PID_MAX_LIMIT).
CLI::Validator PidCheck();

// A count of things (rows, refreshes): a whole number, 0 or more; `zero_means`
// says what 0 does ("all", "no limit") in the message.
CLI::Validator CountCheck(std::string zero_means);

// A whole number from `min` to `max`, digits only (no sign, unit, prefix or
// blank): `what` names it in the message ("a byte count").
CLI::Validator WholeNumberCheck(std::uint64_t min, std::uint64_t max, std::string what);

// A path that is not empty: an unset shell variable ("-o $DIR") must not
// fall back to a default, nor mean "no file". `type_name`: "DIR", "FILE".
CLI::Validator NonEmptyPathCheck(std::string type_name);

// The subcommand named first on the command line, when it is not one of
// `app`'s: "unknown command 'frobnicate' (commands: record, top, agent)".
// Empty when the first word that is not a flag is a known subcommand, or
// when there is none (CLI11 then says one is required).
std::string UnknownSubcommand(int argc, char** argv, const CLI::App& app);

}  // namespace waitscope::cli
