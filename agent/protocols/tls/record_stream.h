// Streaming TLS record framing for ONE direction of a connection. Bytes
// arrive in chunks of any size; the stream cuts them into records and hands
// each record to a RecordSink as start (header), body fragments, end. It
// never buffers a record body: only a partial 5-byte header or the few
// bytes of lookahead a seek needs (< 16 bytes) are held between chunks, so
// application_data costs nothing but a length count.
//
// Seeking: before the first record (the stream starts in a seek mode) and
// after an invalid header or an unabsorbed gap, the stream scans for a
// position where a record of the wanted shape starts (ClientHello, server's
// first record, or any plausible record) and frames from there. Skipped
// bytes are not errors (a pre-TLS prefix such as PostgreSQL's SSLRequest);
// more than kMaxSeekBytes of them make the stream give up (one parse error).
//
// Gaps: Gap() absorbs lost bytes that lie inside the current record body
// when the sink says it would only skip them, or while resynchronising;
// otherwise (including a gap while seeking the first record, which may be
// the one lost) it tells the sink and seeks a plausible record header (the
// next chunk start is tried first).
// Not thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "protocols/common/exchange.h"
#include "protocols/tls/wire.h"

namespace waitscope::protocols::tls {

// Receives the records of one direction. Returning false stops the stream
// (the observer is done with the connection): nothing more is delivered.
class RecordSink {
 public:
  virtual ~RecordSink() = default;
  // ts: time of the chunk holding the header's first byte.
  virtual bool OnRecordStart(const RecordHeader& header, std::uint64_t ts) = 0;
  virtual bool OnRecordBody(std::string_view fragment, std::uint64_t ts) = 0;
  // `n` body bytes were lost in a gap the sink agreed to skip.
  virtual bool OnBodySkipped(std::uint64_t n) = 0;
  // ts: time of the chunk holding the body's last byte.
  virtual bool OnRecordEnd(std::uint64_t ts) = 0;
  // Framing was lost (an invalid header, already counted as a parse error,
  // or a gap that could not be absorbed): the stream seeks a record again.
  virtual bool OnFramingLost() = 0;
};

class RecordStream {
 public:
  enum class Seek : std::uint8_t { kClientHello, kServerStart, kAnyRecord };
  // Most bytes skipped while seeking before the stream gives up.
  static constexpr std::uint64_t kMaxSeekBytes = 64 * 1024;

  // stats: parse_errors and resyncs are counted there; it must outlive this.
  RecordStream(Seek first, ParserStats* stats) : seek_(first), stats_(stats) {}

  void Feed(std::string_view bytes, std::uint64_t ts, RecordSink& sink);
  // `skippable`: how many of the current body's bytes the sink would skip
  // unread. True if the gap was absorbed (inside such a body, or while
  // seeking); false if the stream lost its framing and now seeks a record.
  bool Gap(std::uint64_t n, std::uint64_t skippable, RecordSink& sink);

  bool framed() const { return !seeking_; }
  bool in_body() const { return !seeking_ && body_left_ > 0; }
  bool gave_up() const { return gave_up_; }
  // The seek mode the stream is (or was last) in.
  Seek seek() const { return seek_; }

 private:
  void StartSeek(Seek mode);
  // Scans `in` (with any held lookahead joined in front); returns the bytes
  // from the record start found, or empty if more bytes are needed.
  std::string_view SeekIn(std::string_view in, std::uint64_t ts, std::string& joined);

  Seek seek_;
  ParserStats* stats_;
  bool seeking_ = true;
  bool gave_up_ = false;
  bool stopped_ = false;
  std::string hold_;  // partial header, or seek lookahead (< 16 bytes)
  std::uint64_t skipped_ = 0;
  std::uint64_t body_left_ = 0;
  std::uint64_t header_ts_ = 0;
  bool header_ts_fixed_ = false;  // a seek found the header and set its time
  std::uint64_t hold_ts_ = 0;     // time of the chunk holding hold_'s first byte
  std::uint64_t last_ts_ = 0;
};

}  // namespace waitscope::protocols::tls
