// Record/replay of the request stage's inputs: every wait event, exchange,
// client connection use and TLS handshake the trace loop hands to the
// RequestPipeline, and every Flush(now) it calls, in the order they
// happened. Replaying a stream (findings/event_replay.h) gives the same
// attribution and findings as the live trace, so detectors can be tested and
// benchmarked on real recordings.
//
// Format (JSON lines, one object per line, `.jsonl`; `.jsonl.gz` is gzip'd
// and read the same way):
//   {"type":"header","format":"waitscope-events","version":1,"waitscope":"...","clock":"..."}
//   {"type":"stack","id":N,"frames":[["name","module"],...]}   before its first wait
//   {"type":"wait",...}  {"type":"exchange",...}  {"type":"connect",...}
//   {"type":"tls",...}   {"type":"flush","now_ns":N}   {"type":"end","duration_s":S}
// Times are the recording's CLOCK_MONOTONIC nanoseconds. Field names follow
// the structs below; fields with their default value are left out. Nothing
// beyond what the pipeline gets is written: statements are already
// normalized and redacted by the parsers, and TLS server names are dropped.
//
// Writer: not thread-safe (the trace loop). Write errors never disturb the
// trace: the first one is kept, later events are dropped, and Close returns
// it. Reader: hostile input is an error naming FILE:LINE, never a crash;
// memory grows with the file (stacks are kept for the whole stream).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

#include "aggregate/wait_collector.h"
#include "aggregate/wire_aggregator.h"
#include "conn/wire_observer.h"
#include "core/result.h"
#include "protocols/common/exchange.h"
#include "protocols/tls/handshake_observer.h"

namespace waitscope::findings {

inline constexpr int kEventStreamVersion = 1;

struct StreamExchange {
  ExchangeOrigin origin;
  protocols::Exchange exchange;
};
struct StreamHandshake {
  ExchangeOrigin origin;
  protocols::tls::Handshake handshake;
};
struct StreamFlush {
  std::uint64_t now_ns = 0;
};
// Written when the recording ends; the replayed report's duration.
struct StreamEnd {
  double duration_s = 0;
};

using StreamEvent = std::variant<WaitEvent, StreamExchange, ClientConnectionUse, StreamHandshake,
                                 StreamFlush, StreamEnd>;

struct EventStream {
  std::string waitscope_version;  // of the recording agent
  std::vector<StreamEvent> events;
};

// Tees the wire observer calls into the file and passes them on to `next`
// (not owned; may be null). Waits and flushes are only written: the caller
// hands them to the pipeline itself.
class EventStreamWriter : public WireObserver {
 public:
  // A path ending in ".gz" is compressed.
  static Result<std::unique_ptr<EventStreamWriter>> Open(const std::string& path,
                                                         std::string_view waitscope_version,
                                                         WireObserver* next);
  ~EventStreamWriter() override;
  EventStreamWriter(const EventStreamWriter&) = delete;
  EventStreamWriter& operator=(const EventStreamWriter&) = delete;

  void SetNext(WireObserver* next) { next_ = next; }
  void OnWait(const WaitEvent& wait);
  void OnFlush(std::uint64_t now_ns);
  void OnExchange(const ExchangeOrigin& origin, const protocols::Exchange& exchange) override;
  void OnClientConnectionUse(const ClientConnectionUse& use) override;
  void OnTlsHandshake(const ExchangeOrigin& origin,
                      const protocols::tls::Handshake& handshake) override;

  // Writes the end marker and closes the file; the first error of the
  // recording if any. Events after Close are dropped.
  Status Close(double duration_s);

  std::uint64_t events_written() const { return events_; }

 private:
  struct File;
  EventStreamWriter(std::unique_ptr<File> file, std::string path, WireObserver* next);
  void WriteLine(const std::string& line);
  void Fail(const std::string& why);

  std::unique_ptr<File> file_;
  std::string path_;
  WireObserver* next_;
  // Stacks are shared by many waits: each is written once, by id. Holding
  // the pointer keeps its address from being reused by another stack.
  using StackRef = std::shared_ptr<const std::vector<Frame>>;
  std::unordered_map<const std::vector<Frame>*, std::pair<std::uint64_t, StackRef>> stack_ids_;
  std::uint64_t events_ = 0;
  Status status_;
};

// Reads a whole stream (plain or gzip'd). Errors: "FILE:LINE: what".
Result<EventStream> ReadEventStream(const std::string& path);

}  // namespace waitscope::findings
