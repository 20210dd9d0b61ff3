// Redis connection parser (RESP2 and RESP3): turns a client<->server byte
// stream into one Exchange per command, matched to its reply in order
// (pipelining: replies come back in the order the commands were sent).
//
// What counts as a reply:
//  - every command gets exactly one exchange, including MULTI, each queued
//    command (completed by its +QUEUED) and EXEC (its reply is the results
//    array; cache reads of the queued commands are counted on EXEC);
//  - RESP3 push messages (`>`: pub/sub messages, CLIENT TRACKING
//    invalidations) and, in RESP2 subscribed mode, `message`/`pmessage`
//    arrays are out of band and never complete a command;
//  - (P|S)SUBSCRIBE/UNSUBSCRIBE complete when the server has confirmed every
//    channel named (one confirmation per channel);
//  - after MONITOR succeeds the rest of the reply stream is monitor output
//    and is ignored.
// Statements come from protocols/redis/normalize.h (command + key patterns,
// no values unless ParserOptions::capture_values). Errors: error=true and
// error_code = first word of the error ("ERR", "WRONGTYPE"). Cache reads:
// GET/GETEX/GETDEL/HGET (one read) and MGET/HMGET (one per element).
//
// Robustness: bytes per direction are capped at kMaxBufferedBytes; malformed
// input, oversize messages and gaps count in stats() and make the parser
// look for the next message boundary; after that, pending commands are
// dropped and a reply only matches a command sent before it arrived.
// Not thread-safe (one connection, one thread), like every ConnectionParser.
#pragma once

#include <memory>
#include <string_view>

#include "protocols/common/connection_parser.h"

namespace waitscope::protocols {

std::unique_ptr<ConnectionParser> MakeRedisParser(const ParserOptions& options);

// Protocol inference from the first bytes a client sent: a RESP array of bulk
// strings whose first element is a plausible command name ("*1\r\n$4\r\nPING"),
// or an inline command of a known Redis command ("PING\r\n"), but not an
// HTTP request line ("GET / HTTP/1.1").
bool LooksLikeRedis(std::string_view first_request_bytes);

}  // namespace waitscope::protocols
