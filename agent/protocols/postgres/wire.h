// Framing checks and field decoding of PostgreSQL v3 messages, kept apart
// from the connection state machine so they can be tested and reused by
// protocol detection. All functions are pure and bounds-checked.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "protocols/common/exchange.h"

namespace waitscope::protocols::postgres {

struct MessageHeader {
  char type = 0;
  std::uint32_t length = 0;  // counts the length field itself, not the type byte
};

// Reads a typed message header at the start of `data` (5 bytes), if present.
std::optional<MessageHeader> ReadHeader(std::string_view data);

// True if `type` is a message the given side sends (client for kRequest).
bool IsKnownType(Direction dir, char type);

// True if `length` is possible for this message type: fixed-size messages
// must have their exact size, everything else 4..max. `max_length` is the
// caller's bound (tighter while resynchronising).
bool PlausibleLength(Direction dir, char type, std::uint32_t length, std::uint32_t max_length);

// Rows from a CommandComplete tag: "SELECT 5" -> 5, "INSERT 0 1" -> 1,
// "UPDATE 3" -> 3; -1 for tags without a count ("BEGIN", "CREATE TABLE").
std::int64_t RowsFromCommandTag(std::string_view tag);

// The SQLSTATE ('C' field) of an ErrorResponse/NoticeResponse body; empty if
// the body is malformed or has no code.
std::string SqlstateFromErrorFields(std::string_view body);

enum class StartupPacket : std::uint8_t {
  kInvalid,
  kStartup,
  kSslRequest,
  kGssEncRequest,
  kCancel
};

// Classifies an untyped startup-phase packet from its length and code.
StartupPacket ClassifyStartupPacket(std::uint32_t length, std::uint32_t code);

}  // namespace waitscope::protocols::postgres
