// Redis command normalization: the statement text that leaves the parser.
//   - the command name uppercased ("get" -> "GET"); for container commands
//     the subcommand too ("CLIENT TRACKING", "CONFIG GET");
//   - then the key patterns of the command's key arguments (a small table of
//     common commands says which arguments are keys), deduplicated in order:
//     "MGET k:1 k:2 k:3" -> "MGET k:?";
//   - key segments that look like identifiers become `?`: numbers, hex
//     strings of 8+ characters, UUIDs, long mixed tokens, redis-benchmark's
//     __rand_int__ ("user:123:cart" -> "user:?:cart", "key:__rand_int__" ->
//     "key:?", "session:3f2a9c1e7b2d4a11" -> "session:?");
//   - values (and fields, members, scores...) are never included, unless
//     capture_values, which keeps every argument verbatim (escaped, truncated).
// Never fails; bytes that are not printable ASCII become `?`.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "protocols/redis/types.h"

namespace waitscope::protocols::redis {

struct NormalizedCommand {
  std::string statement;  // starts with the uppercased command name
  std::size_t name_size = 0;
  CacheRead cache = CacheRead::kNone;

  // The uppercased command name ("?" when it is not a valid name): a view
  // into `statement`, so valid only while that is neither changed nor moved.
  std::string_view name() const { return std::string_view(statement).substr(0, name_size); }
};

// `args` is a whole command, args[0] its name; must not be empty.
NormalizedCommand NormalizeCommand(const std::vector<std::string_view>& args, bool capture_values);

// The pattern of one key ("user:123:cart" -> "user:?:cart").
std::string KeyPattern(std::string_view key);

}  // namespace waitscope::protocols::redis
