// Plain data shared by the Redis decoder, normalizer and parser: what one
// decoded RESP request or reply looks like, and what the parser remembers
// about a request while it waits for the reply.
//
// Lifetimes: every std::string_view in RequestFrame / ValueSummary points into
// the buffer that was decoded and is valid only until that buffer changes
// (the parser copies what it keeps into PendingCommand before consuming).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace waitscope::protocols::redis {

// Outcome of decoding one message from the front of a byte buffer.
enum class DecodeStatus : std::uint8_t {
  kOk,        // a whole message was decoded; `consumed` bytes belong to it
  kNeedMore,  // a valid prefix; try again once the buffer has `need_total` bytes
  kInvalid,   // not RESP at this position
};

struct DecodeResult {
  DecodeStatus status = DecodeStatus::kNeedMore;
  std::size_t consumed = 0;
  // kNeedMore: the smallest buffer size at which decoding can progress. Lets
  // the parser skip re-decoding a large bulk string on every small chunk, and
  // tells it early when a message cannot fit in kMaxBufferedBytes.
  std::size_t need_total = 0;
  // kNeedMore inside a bulk string's payload: the offset where that payload
  // ends (its CRLF follows). 0 otherwise. Lets the parser tell that bytes
  // lost by the capture (OnGap) are payload bytes it never looks at.
  std::size_t payload_end = 0;
};

// A client command: RESP array of bulk strings, or an inline command line.
struct RequestFrame {
  std::vector<std::string_view> args;  // args[0] is the command name
  // `*0`, `*-1` or a blank inline line: the server ignores it and sends no
  // reply, so no exchange is expected.
  bool no_reply = false;
};

// What the parser needs to know about one RESP value (top-level reply or a
// direct child of one); the value itself is not kept.
struct ValueSummary {
  char type = 0;          // RESP type byte: + - : $ * _ # , ( = % ~ > !
  bool is_null = false;   // $-1, *-1 or RESP3 _
  bool is_error = false;  // - or !
  // Simple string / error / integer / double / bool / bignum line, or the
  // payload of a bulk string, blob error or verbatim string.
  std::string_view text;
  std::int64_t elements = -1;  // aggregates: element count (maps: pairs)
  // Aggregates: how many direct children were null vs. not null (MGET hits).
  std::uint32_t child_values = 0;
  std::uint32_t child_nulls = 0;
};

struct ReplyFrame {
  ValueSummary value;  // attributes (|) that preceded it are skipped
  // Direct children of a top-level aggregate, at most kMaxReplyChildren
  // (enough for pub/sub kinds and EXEC results; MGET counts use the totals).
  std::vector<ValueSummary> children;
};

inline constexpr std::size_t kMaxReplyChildren = 1024;

// How a command's reply feeds the report's `cache` section.
enum class CacheRead : std::uint8_t {
  kNone,    // not a cache read
  kSingle,  // GET/HGET/GETEX/GETDEL: null reply = miss, value = hit
  kMulti,   // MGET/HMGET: each element of the reply array is one read
};

// Commands whose successful reply changes how the parser reads the
// connection's later replies.
enum class StateCommand : std::uint8_t { kNone, kMulti, kExec, kDiscard, kMonitor, kReset };

// A request waiting for its reply, in send order.
struct PendingCommand {
  std::string statement;  // normalized text for Exchange::statement
  CacheRead cache = CacheRead::kNone;
  StateCommand state = StateCommand::kNone;
  std::uint64_t request_end_ns = 0;
  // (P|S)(UN)SUBSCRIBE: the lowercase confirmation kind the server answers
  // with ("subscribe"; a view of a string literal, never of the buffer), and
  // how many confirmations (one per channel) are left.
  std::string_view pubsub_kind;
  std::uint32_t confirmations_left = 0;
};

}  // namespace waitscope::protocols::redis
