// The one interface every protocol parser implements (Pixie's
// protocols/common/interface.h is the model). A ConnectionParser owns the
// state of ONE connection: both directions' unparsed bytes, prepared
// statements, pipelined requests waiting for responses.
//
// Contract:
//  - bytes arrive in order per direction, in chunks of any size (one byte at a
//    time or a hundred messages at once) with the time of the syscall that
//    carried them;
//  - OnGap says bytes were lost (truncated capture, dropped event): the parser
//    must resynchronise on a later message boundary, never misparse;
//  - hostile input: never read past what it was given, never crash, never
//    allocate without bound (buffered bytes are capped; count a parse error
//    and drop); bad input is a counted parse error;
//  - completed exchanges are returned by TakeExchanges() in request order.
// Not thread-safe: one connection, one thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <utility>
#include <vector>

#include "protocols/common/exchange.h"

namespace waitscope::protocols {

class ConnectionParser {
 public:
  virtual ~ConnectionParser() = default;

  virtual void OnData(Direction dir, std::string_view bytes, std::uint64_t ts_ns) = 0;
  virtual void OnGap(Direction dir, std::uint64_t missing_bytes) = 0;
  // The connection closed: a message that ends at close (an HTTP/1.0 body
  // without a length) is complete now.
  virtual void OnClose(std::uint64_t /*ts_ns*/) {}
  // The protocol switched the connection to TLS (PostgreSQL SSLRequest
  // answered 'S', MySQL SSL request): the bytes that follow are TLS records.
  virtual bool encrypted() const { return false; }

  // Moves out the exchanges completed so far.
  std::vector<Exchange> TakeExchanges() { return std::exchange(done_, {}); }
  // The same into `into` (cleared first), trading buffers with it: a caller
  // that keeps one vector for every parser lets them all reuse its capacity
  // instead of growing a new vector per read.
  void TakeExchanges(std::vector<Exchange>& into) {
    into.clear();
    done_.swap(into);
  }
  const ParserStats& stats() const { return stats_; }

 protected:
  std::vector<Exchange> done_;
  ParserStats stats_;
};

// Upper bound of bytes a parser buffers per direction while waiting for the
// rest of a message. A message larger than this is skipped (counted), so a
// 1 GB COPY or bulk reply cannot exhaust memory.
inline constexpr std::size_t kMaxBufferedBytes = 1 << 20;

}  // namespace waitscope::protocols
