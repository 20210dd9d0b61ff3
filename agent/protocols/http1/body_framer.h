// Finds where an HTTP/1.x message body ends (RFC 9112 §6-§7) without keeping
// the body: Content-Length, chunked (chunk extensions and trailer fields are
// read and dropped), or "until the connection closes".
//
// Contract: Feed() looks only at the bytes it is given and says how many of
// them belong to the body; it keeps no pointer into them. A chunk-size line
// or trailer line split across calls is reported as consumed = 0 (the caller
// keeps the bytes and calls again with more), so the caller buffers at most
// one such line. Malformed framing is kError and the framer stays in error.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace waitscope::protocols::http1 {

class BodyFramer {
 public:
  enum class Status : std::uint8_t { kNeedMore, kDone, kError };
  struct Step {
    std::size_t consumed = 0;
    Status status = Status::kNeedMore;
  };

  void StartNone() { state_ = State::kDone; }
  void StartLength(std::uint64_t n);
  void StartChunked() { state_ = State::kChunkSize; }
  void StartUntilClose() { state_ = State::kUntilClose; }

  bool done() const { return state_ == State::kDone; }
  bool until_close() const { return state_ == State::kUntilClose; }

  Step Feed(std::string_view data);

  // `n` bytes of the stream were lost. True if they fell inside body data of
  // known length (or a close-delimited body), so framing is intact.
  bool SkipGap(std::uint64_t n);

 private:
  enum class State : std::uint8_t {
    kLength,
    kChunkSize,
    kChunkData,
    kChunkDataEnd,
    kTrailer,
    kUntilClose,
    kDone,
    kError,
  };

  State state_ = State::kDone;
  std::uint64_t remaining_ = 0;    // body or chunk data bytes still expected
  std::size_t trailer_bytes_ = 0;  // bounds the trailer section
};

}  // namespace waitscope::protocols::http1
