// RESP (REdis Serialization Protocol) decoding of one message at a time from
// the front of a byte buffer, for RESP2 and RESP3
// (https://redis.io/docs/latest/develop/reference/protocol-spec/).
//
// Contract: the functions look only at `in`, never past it, keep no state
// between calls and allocate only the output vectors (bounded by the input
// size). On kNeedMore the caller appends more bytes and calls again from the
// same position; on kInvalid the bytes at that position are not RESP and the
// caller must resynchronise. Nesting deeper than kMaxDepth is invalid, so a
// hostile `*1\r\n*1\r\n...` cannot exhaust the stack.
#pragma once

#include <string_view>

#include "protocols/redis/types.h"

namespace waitscope::protocols::redis {

inline constexpr int kMaxDepth = 32;
// Longest line (simple string, error, inline command) accepted; Redis itself
// caps inline commands at 64 KiB (PROTO_INLINE_MAX_SIZE).
inline constexpr std::size_t kMaxLineBytes = 64 * 1024;

// A client command: `*N\r\n` followed by N bulk strings, or an inline command
// (a text line of space-separated words, as typed in telnet).
DecodeResult DecodeRequest(std::string_view in, RequestFrame* out);

// A server reply of any RESP2/RESP3 type. Attributes (`|`) in front of the
// value, at any level, are skipped: they annotate the value, not replace it.
DecodeResult DecodeReply(std::string_view in, ReplyFrame* out);

// Could a request / reply start at in[0]? Cheap check used while scanning for
// a message boundary after a gap.
bool IsRequestStart(std::string_view in);
bool IsReplyStart(std::string_view in);

}  // namespace waitscope::protocols::redis
