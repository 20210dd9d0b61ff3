#include "protocols/redis/normalize.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "protocols/common/ascii.h"

namespace waitscope::protocols::redis {
namespace {

// Which arguments of a command are keys (after the name, args[1..]).
enum class Keys : std::uint8_t {
  kNone,
  kFirst,       // GET k ...
  kFirstTwo,    // RENAME src dst, LMOVE src dst ...
  kAll,         // DEL k1 k2 ...
  kAllButLast,  // BLPOP k1 k2 timeout
  kPairs,       // MSET k1 v1 k2 v2
  kNumKeys,     // EVAL script numkeys k1 k2 ... args
  kSubcommand,  // CLIENT TRACKING ...: the subcommand is named, no keys
};

struct CommandSpec {
  Keys keys;
  CacheRead cache;
};

constexpr std::size_t kMaxNameBytes = 32;
constexpr std::size_t kMaxPatternBytes = 128;
constexpr std::size_t kMaxPatterns = 8;
constexpr std::size_t kMaxCapturedArgs = 16;
constexpr std::size_t kMaxCapturedArgBytes = 128;

// A command name of up to 16 bytes as two zero-padded words (the longest
// name in the table, ZREMRANGEBYSCORE, has 16): the table hashes and
// compares two integers. Hashing the bytes and comparing them with memcmp
// was a twelfth of the Redis wire path.
struct PackedName {
  std::uint64_t lo = 0;
  std::uint64_t hi = 0;
  bool operator==(const PackedName&) const = default;
};

constexpr std::size_t kMaxTableNameBytes = 2 * sizeof(std::uint64_t);

// Nothing for a name too long to be in the table. The words are put
// together in registers: bytes stored one by one and read back as a word
// stalled the load (no store forwarding), a fifth of NormalizeCommand.
std::optional<PackedName> Pack(std::string_view name) {
  if (name.empty() || name.size() > kMaxTableNameBytes) return std::nullopt;
  PackedName p;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const std::uint64_t byte = static_cast<unsigned char>(name[i]);
    (i < sizeof p.lo ? p.lo : p.hi) |= byte << (8 * (i % sizeof p.lo));
  }
  return p;
}

// An open-addressing table of command specs, its size a power of two (a
// mask, not the division std::unordered_map does per lookup) and at most
// a quarter full, so a probe rarely goes past its first slot.
class CommandTable {
 public:
  template <std::size_t N>
  explicit CommandTable(const std::pair<std::string_view, CommandSpec> (&specs)[N]) {
    static_assert(N * 4 <= kSlots, "CommandTable: raise kSlots");
    for (const auto& [name, spec] : specs) {
      const PackedName key = *Pack(name);  // Lookup's static_assert: every name fits
      Slot& slot = slots_[Find(key)];
      if (!slot.used) slot = Slot{key, spec, true};  // the first entry of a name wins
    }
  }

  const CommandSpec* Get(std::string_view name) const {
    const std::optional<PackedName> key = Pack(name);
    if (!key) return nullptr;
    const Slot& slot = slots_[Find(*key)];
    return slot.used ? &slot.spec : nullptr;
  }

 private:
  static constexpr int kSlotBits = 10;
  static constexpr std::size_t kSlots = std::size_t{1} << kSlotBits;
  struct Slot {
    PackedName name;
    CommandSpec spec{};
    bool used = false;
  };

  // The slot holding `key`, or the empty slot where it would go.
  std::size_t Find(const PackedName& key) const {
    // Two odd multipliers (from splitmix64) spread every name byte over the
    // high bits, which the top-bits shift keeps.
    const std::uint64_t h = key.lo * 0x9e3779b97f4a7c15ULL ^ key.hi * 0xbf58476d1ce4e5b9ULL;
    std::size_t i = static_cast<std::size_t>(h >> (64 - kSlotBits));
    while (slots_[i].used && !(slots_[i].name == key)) i = (i + 1) & (kSlots - 1);
    return i;
  }

  std::array<Slot, kSlots> slots_{};
};

const CommandSpec* Lookup(std::string_view name) {
  using K = Keys;
  using C = CacheRead;
  static constexpr std::pair<std::string_view, CommandSpec> kSpecs[] = {
      // Cache reads.
      {"GET", {K::kFirst, C::kSingle}},
      {"GETEX", {K::kFirst, C::kSingle}},
      {"GETDEL", {K::kFirst, C::kSingle}},
      {"HGET", {K::kFirst, C::kSingle}},
      {"MGET", {K::kAll, C::kMulti}},
      {"HMGET", {K::kFirst, C::kMulti}},
      // Strings and generic key commands.
      {"SET", {K::kFirst, C::kNone}},
      {"SETNX", {K::kFirst, C::kNone}},
      {"SETEX", {K::kFirst, C::kNone}},
      {"PSETEX", {K::kFirst, C::kNone}},
      {"GETSET", {K::kFirst, C::kNone}},
      {"GETRANGE", {K::kFirst, C::kNone}},
      {"SETRANGE", {K::kFirst, C::kNone}},
      {"APPEND", {K::kFirst, C::kNone}},
      {"STRLEN", {K::kFirst, C::kNone}},
      {"INCR", {K::kFirst, C::kNone}},
      {"DECR", {K::kFirst, C::kNone}},
      {"INCRBY", {K::kFirst, C::kNone}},
      {"DECRBY", {K::kFirst, C::kNone}},
      {"INCRBYFLOAT", {K::kFirst, C::kNone}},
      {"GETBIT", {K::kFirst, C::kNone}},
      {"SETBIT", {K::kFirst, C::kNone}},
      {"BITCOUNT", {K::kFirst, C::kNone}},
      {"MSET", {K::kPairs, C::kNone}},
      {"MSETNX", {K::kPairs, C::kNone}},
      {"DEL", {K::kAll, C::kNone}},
      {"UNLINK", {K::kAll, C::kNone}},
      {"EXISTS", {K::kAll, C::kNone}},
      {"TOUCH", {K::kAll, C::kNone}},
      {"WATCH", {K::kAll, C::kNone}},
      {"EXPIRE", {K::kFirst, C::kNone}},
      {"PEXPIRE", {K::kFirst, C::kNone}},
      {"EXPIREAT", {K::kFirst, C::kNone}},
      {"PEXPIREAT", {K::kFirst, C::kNone}},
      {"TTL", {K::kFirst, C::kNone}},
      {"PTTL", {K::kFirst, C::kNone}},
      {"PERSIST", {K::kFirst, C::kNone}},
      {"TYPE", {K::kFirst, C::kNone}},
      {"DUMP", {K::kFirst, C::kNone}},
      {"RESTORE", {K::kFirst, C::kNone}},
      {"RENAME", {K::kFirstTwo, C::kNone}},
      {"RENAMENX", {K::kFirstTwo, C::kNone}},
      {"COPY", {K::kFirstTwo, C::kNone}},
      // Hashes.
      {"HSET", {K::kFirst, C::kNone}},
      {"HSETNX", {K::kFirst, C::kNone}},
      {"HMSET", {K::kFirst, C::kNone}},
      {"HGETALL", {K::kFirst, C::kNone}},
      {"HDEL", {K::kFirst, C::kNone}},
      {"HEXISTS", {K::kFirst, C::kNone}},
      {"HINCRBY", {K::kFirst, C::kNone}},
      {"HINCRBYFLOAT", {K::kFirst, C::kNone}},
      {"HKEYS", {K::kFirst, C::kNone}},
      {"HVALS", {K::kFirst, C::kNone}},
      {"HLEN", {K::kFirst, C::kNone}},
      {"HSCAN", {K::kFirst, C::kNone}},
      // Lists.
      {"LPUSH", {K::kFirst, C::kNone}},
      {"RPUSH", {K::kFirst, C::kNone}},
      {"LPUSHX", {K::kFirst, C::kNone}},
      {"RPUSHX", {K::kFirst, C::kNone}},
      {"LPOP", {K::kFirst, C::kNone}},
      {"RPOP", {K::kFirst, C::kNone}},
      {"LRANGE", {K::kFirst, C::kNone}},
      {"LLEN", {K::kFirst, C::kNone}},
      {"LINDEX", {K::kFirst, C::kNone}},
      {"LSET", {K::kFirst, C::kNone}},
      {"LREM", {K::kFirst, C::kNone}},
      {"LTRIM", {K::kFirst, C::kNone}},
      {"LINSERT", {K::kFirst, C::kNone}},
      {"LPOS", {K::kFirst, C::kNone}},
      {"RPOPLPUSH", {K::kFirstTwo, C::kNone}},
      {"LMOVE", {K::kFirstTwo, C::kNone}},
      {"BLMOVE", {K::kFirstTwo, C::kNone}},
      {"BLPOP", {K::kAllButLast, C::kNone}},
      {"BRPOP", {K::kAllButLast, C::kNone}},
      // Sets.
      {"SADD", {K::kFirst, C::kNone}},
      {"SREM", {K::kFirst, C::kNone}},
      {"SMEMBERS", {K::kFirst, C::kNone}},
      {"SISMEMBER", {K::kFirst, C::kNone}},
      {"SMISMEMBER", {K::kFirst, C::kNone}},
      {"SCARD", {K::kFirst, C::kNone}},
      {"SPOP", {K::kFirst, C::kNone}},
      {"SRANDMEMBER", {K::kFirst, C::kNone}},
      {"SSCAN", {K::kFirst, C::kNone}},
      {"SMOVE", {K::kFirstTwo, C::kNone}},
      {"SINTER", {K::kAll, C::kNone}},
      {"SUNION", {K::kAll, C::kNone}},
      {"SDIFF", {K::kAll, C::kNone}},
      // Sorted sets.
      {"ZADD", {K::kFirst, C::kNone}},
      {"ZREM", {K::kFirst, C::kNone}},
      {"ZINCRBY", {K::kFirst, C::kNone}},
      {"ZSCORE", {K::kFirst, C::kNone}},
      {"ZMSCORE", {K::kFirst, C::kNone}},
      {"ZCARD", {K::kFirst, C::kNone}},
      {"ZCOUNT", {K::kFirst, C::kNone}},
      {"ZRANK", {K::kFirst, C::kNone}},
      {"ZREVRANK", {K::kFirst, C::kNone}},
      {"ZRANGE", {K::kFirst, C::kNone}},
      {"ZREVRANGE", {K::kFirst, C::kNone}},
      {"ZRANGEBYSCORE", {K::kFirst, C::kNone}},
      {"ZREVRANGEBYSCORE", {K::kFirst, C::kNone}},
      {"ZREMRANGEBYSCORE", {K::kFirst, C::kNone}},
      {"ZREMRANGEBYRANK", {K::kFirst, C::kNone}},
      {"ZPOPMIN", {K::kFirst, C::kNone}},
      {"ZPOPMAX", {K::kFirst, C::kNone}},
      {"ZSCAN", {K::kFirst, C::kNone}},
      // Streams, HyperLogLog, geo.
      {"XADD", {K::kFirst, C::kNone}},
      {"XLEN", {K::kFirst, C::kNone}},
      {"XRANGE", {K::kFirst, C::kNone}},
      {"XREVRANGE", {K::kFirst, C::kNone}},
      {"XTRIM", {K::kFirst, C::kNone}},
      {"XDEL", {K::kFirst, C::kNone}},
      {"XACK", {K::kFirst, C::kNone}},
      {"PFADD", {K::kFirst, C::kNone}},
      {"PFCOUNT", {K::kAll, C::kNone}},
      {"GEOADD", {K::kFirst, C::kNone}},
      {"GEOSEARCH", {K::kFirst, C::kNone}},
      // Scripts: keys are counted by numkeys; the script body is a value.
      {"EVAL", {K::kNumKeys, C::kNone}},
      {"EVALSHA", {K::kNumKeys, C::kNone}},
      {"EVAL_RO", {K::kNumKeys, C::kNone}},
      {"EVALSHA_RO", {K::kNumKeys, C::kNone}},
      {"FCALL", {K::kNumKeys, C::kNone}},
      {"FCALL_RO", {K::kNumKeys, C::kNone}},
      // Container commands: the subcommand says what was done.
      {"CLIENT", {K::kSubcommand, C::kNone}},
      {"CONFIG", {K::kSubcommand, C::kNone}},
      {"CLUSTER", {K::kSubcommand, C::kNone}},
      {"COMMAND", {K::kSubcommand, C::kNone}},
      {"OBJECT", {K::kSubcommand, C::kNone}},
      {"MEMORY", {K::kSubcommand, C::kNone}},
      {"SCRIPT", {K::kSubcommand, C::kNone}},
      {"FUNCTION", {K::kSubcommand, C::kNone}},
      {"XINFO", {K::kSubcommand, C::kNone}},
      {"XGROUP", {K::kSubcommand, C::kNone}},
      {"ACL", {K::kSubcommand, C::kNone}},
      {"MODULE", {K::kSubcommand, C::kNone}},
      {"LATENCY", {K::kSubcommand, C::kNone}},
      {"SLOWLOG", {K::kSubcommand, C::kNone}},
      {"PUBSUB", {K::kSubcommand, C::kNone}},
      {"DEBUG", {K::kSubcommand, C::kNone}},
  };
  static_assert(std::ranges::all_of(kSpecs,
                                    [](const auto& spec) {
                                      return !spec.first.empty() &&
                                             spec.first.size() <= kMaxTableNameBytes;
                                    }),
                "a command name too long for PackedName");
  static const auto* const kTable = new CommandTable(kSpecs);
  return kTable->Get(name);
}

// Byte classes for one table lookup per byte: key patterns run once per
// command, and per-byte branches were most of their time.
enum : std::uint8_t {
  kDigit = 1,
  kHexChar = 2,  // a digit or a-f, A-F
  kLetter = 4,
  kKeySep = 8,        // between a key's segments: ":/|#@=,;{} "
  kPartSep = 16,      // between a segment's parts: "-_."
  kUnprintable = 32,  // shown as '?'
  kNameChar = 64,     // in a command name: letters, digits, "._-|"
  kAlnum = 128,       // a letter or a digit
};

constexpr std::array<std::uint8_t, 256> kClass = [] {
  std::array<std::uint8_t, 256> t{};
  for (int c = 0; c < 256; ++c) {
    std::uint8_t k = 0;
    if (c >= '0' && c <= '9') k |= kDigit | kHexChar | kAlnum | kNameChar;
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) k |= kLetter | kAlnum | kNameChar;
    if ((c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')) k |= kHexChar;
    if (c < 0x20 || c >= 0x7f) k |= kUnprintable;
    for (char sep : std::string_view(":/|#@=,;{} ")) k |= c == sep ? kKeySep : 0;
    for (char sep : std::string_view("-_.")) k |= c == sep ? kPartSep : 0;
    for (char n : std::string_view("._-|")) k |= c == n ? kNameChar : 0;
    t[static_cast<std::size_t>(c)] = k;
  }
  return t;
}();

std::uint8_t ClassOf(char c) {
  return kClass[static_cast<unsigned char>(c)];
}

// Appends the uppercased name if it is a valid one, made of 1 to
// kMaxNameBytes letters, digits and the separators module commands use
// ("JSON.GET"); anything else is not a command name we repeat, and leaves
// `out` as it was. Returns whether it appended. One pass that writes and
// checks together: checking first, then pushing byte by byte, was 5 % of
// the agent's Redis path.
bool AppendUpperName(std::string_view s, std::string* out) {
  if (s.empty() || s.size() > kMaxNameBytes) return false;
  const std::size_t at = out->size();
  out->resize(at + s.size());
  char* d = out->data() + at;
  std::uint8_t all = 0xff;
  for (char c : s) {
    all &= ClassOf(c);
    *d++ = c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
  }
  if ((all & kNameChar) == 0) {
    out->resize(at);
    return false;
  }
  return true;
}

// What one pass over a segment or part says about it.
struct Shape {
  std::uint8_t any = 0;  // OR of the bytes' classes
  bool all_digit = true, all_hex = true, all_alnum = true;
};

// From the OR and the AND of the bytes' classes: "all digits" is kDigit in
// the AND.
Shape ShapeFrom(std::uint8_t any, std::uint8_t all) {
  return Shape{.any = any,
               .all_digit = (all & kDigit) != 0,
               .all_hex = (all & kHexChar) != 0,
               .all_alnum = (all & kAlnum) != 0};
}

Shape ShapeOf(std::string_view s) {
  std::uint8_t any = 0, all = 0xff;
  for (char c : s) {
    const std::uint8_t k = ClassOf(c);
    any |= k;
    all &= k;
  }
  return ShapeFrom(any, all);
}

// An identifier rather than a name: a number, a hex id, or a long token
// mixing letters and digits (base64-ish session ids).
bool IsIdLike(std::string_view s, const Shape& sh) {
  if (s.empty()) return false;
  if (s == "__rand_int__") return true;  // redis-benchmark's placeholder key part
  const bool has_digit = (sh.any & kDigit) != 0, has_alpha = (sh.any & kLetter) != 0;
  if (sh.all_digit) return true;
  if (sh.all_hex && has_digit && s.size() >= 8) return true;
  return sh.all_alnum && has_digit && has_alpha && s.size() >= 16;
}

// One part between '-', '_' or '.': an id becomes "?", otherwise runs of two
// or more digits do ("user123" -> "user?") and unprintable bytes become "?".
void AppendPart(std::string_view part, std::string* out) {
  const Shape sh = ShapeOf(part);
  if (IsIdLike(part, sh)) {
    out->push_back('?');
    return;
  }
  if ((sh.any & (kDigit | kUnprintable)) == 0) {  // nothing to replace
    out->append(part);
    return;
  }
  for (std::size_t i = 0; i < part.size();) {
    std::size_t j = i;
    while (j < part.size() && (ClassOf(part[j]) & kDigit)) ++j;
    if (j - i >= 2) {
      out->push_back('?');
      i = j;
      continue;
    }
    out->push_back(ClassOf(part[i]) & kUnprintable ? '?' : part[i]);
    ++i;
  }
}

// One segment between the main separators (':' and friends).
// `sh` is the segment's shape, which the caller found scanning for its end.
void AppendSegment(std::string_view seg, const Shape& sh, std::string* out) {
  if (IsUuid(seg) || IsIdLike(seg, sh)) {
    out->push_back('?');
    return;
  }
  // Without digits or unprintable bytes no part can change ("user", "cart").
  if ((sh.any & (kDigit | kUnprintable)) == 0) {
    out->append(seg);
    return;
  }
  std::size_t start = 0;
  for (std::size_t i = 0; i <= seg.size(); ++i) {
    if (i == seg.size() || (ClassOf(seg[i]) & kPartSep)) {
      AppendPart(seg.substr(start, i - start), out);
      if (i < seg.size()) out->push_back(seg[i]);
      start = i + 1;
    }
  }
}

void AppendEscaped(std::string_view arg, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (std::size_t i = 0; i < arg.size() && i < kMaxCapturedArgBytes; ++i) {
    auto u = static_cast<unsigned char>(arg[i]);
    if (u < 0x20 || u >= 0x7f || u == '\\') {
      out->append("\\x");
      out->push_back(kHex[u >> 4]);
      out->push_back(kHex[u & 0xf]);
    } else {
      out->push_back(arg[i]);
    }
  }
  if (arg.size() > kMaxCapturedArgBytes) out->append("...");
}

// Calls fn(key) for each key argument of the command, in order, until fn
// returns false. A visitor rather than a vector: this runs once per command.
template <typename Fn>
void ForEachKey(Keys keys, const std::vector<std::string_view>& args, Fn&& fn) {
  const std::size_t n = args.size();
  std::size_t first = 1;
  std::size_t end = 1;  // one past the last key
  std::size_t step = 1;
  switch (keys) {
    case Keys::kNone:
    case Keys::kSubcommand:
      return;
    case Keys::kFirst:
      end = std::min<std::size_t>(n, 2);
      break;
    case Keys::kFirstTwo:
      end = std::min<std::size_t>(n, 3);
      break;
    case Keys::kAll:
      end = n;
      break;
    case Keys::kAllButLast:
      end = n > 1 ? n - 1 : 1;
      break;
    case Keys::kPairs:
      end = n;
      step = 2;
      break;
    case Keys::kNumKeys: {
      if (n < 3 || args[2].empty() || args[2].size() > 6) return;
      std::size_t numkeys = 0;
      for (char c : args[2]) {
        if (!IsDigit(c)) return;
        numkeys = numkeys * 10 + static_cast<std::size_t>(c - '0');
      }
      first = 3;
      end = std::min(n, 3 + numkeys);
      break;
    }
  }
  for (std::size_t i = first; i < end; i += step) {
    if (!fn(args[i])) return;
  }
}

// Appends the pattern of `key` to *out (see KeyPattern).
void AppendKeyPattern(std::string_view key, std::string* out) {
  if (key.empty()) {
    out->append("\"\"");
    return;
  }
  const std::size_t base = out->size();
  std::size_t start = 0;
  while (out->size() - base < kMaxPatternBytes) {
    // One pass finds the segment's end and its shape.
    std::size_t end = start;
    std::uint8_t any = 0, all = 0xff;
    for (; end < key.size(); ++end) {
      const std::uint8_t k = ClassOf(key[end]);
      if (k & kKeySep) break;
      any |= k;
      all &= k;
    }
    AppendSegment(key.substr(start, end - start), ShapeFrom(any, all), out);
    if (end == key.size()) break;
    out->push_back(key[end] == ' ' ? '?' : key[end]);
    start = end + 1;
  }
  if (out->size() - base > kMaxPatternBytes) {
    out->resize(base + kMaxPatternBytes);
    out->append("...");
  }
}

}  // namespace

std::string KeyPattern(std::string_view key) {
  std::string out;
  AppendKeyPattern(key, &out);
  return out;
}

NormalizedCommand NormalizeCommand(const std::vector<std::string_view>& args, bool capture_values) {
  NormalizedCommand cmd;
  if (args.empty()) return cmd;
  if (!AppendUpperName(args[0], &cmd.statement)) cmd.statement.push_back('?');
  cmd.name_size = cmd.statement.size();
  const CommandSpec* spec = Lookup(cmd.name());
  if (spec != nullptr) cmd.cache = spec->cache;

  if (capture_values) {
    for (std::size_t i = 1; i < args.size() && i <= kMaxCapturedArgs; ++i) {
      cmd.statement.push_back(' ');
      AppendEscaped(args[i], &cmd.statement);
    }
    if (args.size() > kMaxCapturedArgs + 1) cmd.statement.append(" ...");
    return cmd;
  }
  if (spec == nullptr) return cmd;  // unknown command: we cannot tell keys from values
  if (spec->keys == Keys::kSubcommand) {
    if (args.size() > 1) {
      cmd.statement.push_back(' ');
      if (!AppendUpperName(args[1], &cmd.statement)) cmd.statement.pop_back();
    }
    return cmd;
  }
  // Patterns are appended in place; each new one is checked against the
  // ones already there (by offset and length) and taken back if repeated.
  // Left uninitialized (only kept[0, n_kept) is read): zeroing it, as
  // std::pair's constructor does, was a sixth of NormalizeCommand.
  struct Kept {
    std::size_t at;
    std::size_t size;
  };
  std::array<Kept, kMaxPatterns> kept;
  std::size_t n_kept = 0;
  ForEachKey(spec->keys, args, [&](std::string_view key) {
    const std::size_t at = cmd.statement.size();
    cmd.statement.push_back(' ');
    AppendKeyPattern(key, &cmd.statement);
    const std::string_view text(cmd.statement);
    const std::string_view p = text.substr(at + 1);
    for (std::size_t i = 0; i < n_kept; ++i) {
      if (text.substr(kept[i].at, kept[i].size) == p) {
        cmd.statement.resize(at);
        return true;
      }
    }
    if (n_kept == kMaxPatterns) {
      cmd.statement.resize(at);
      cmd.statement.append(" ...");
      return false;
    }
    kept[n_kept++] = {at + 1, p.size()};
    return true;
  });
  return cmd;
}

}  // namespace waitscope::protocols::redis
