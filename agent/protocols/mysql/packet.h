// MySQL packet framing and the small decoders every MySQL message needs.
//
// PacketFramer cuts one direction's byte stream into packets (3-byte length,
// 1-byte sequence id, payload). Contract:
//  - packets up to kMaxWholePayload bytes are delivered whole; a larger
//    packet, or a multi-packet payload (0xFFFFFF-byte packets chained until a
//    shorter one), is skipped as its bytes arrive and delivered once, at its
//    end, truncated to its first kTruncatedPrefix bytes (counted as a parse
//    error: the contract of kMaxBufferedBytes). Memory stays bounded;
//  - a packet's ts_ns is the time of the chunk holding its last byte;
//  - after ResyncAtNextChunk() the framer drops bytes until the start of a
//    later Feed() call whose first header has the expected sequence id and a
//    bufferable length: MySQL has no magic bytes, so chunk (syscall)
//    boundaries are the only plausible message boundaries after a gap.
// Never reads past what it was given. Not thread-safe.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "protocols/common/binary_reader.h"
#include "protocols/common/connection_parser.h"
#include "protocols/common/stream_buffer.h"
#include "protocols/mysql/types.h"

namespace waitscope::protocols::mysql {

struct Packet {
  std::string_view payload;  // whole payload, or its first bytes if truncated
  std::uint8_t seq = 0;
  bool truncated = false;
  std::uint64_t ts_ns = 0;
};

// Bytes are fed to the StreamBuffer in pieces of at most this size, so one
// buffered (unfinished) packet plus one piece always fits kMaxBufferedBytes.
inline constexpr std::size_t kFeedPiece = 64 * 1024;
inline constexpr std::size_t kMaxWholePayload = kMaxBufferedBytes - kFeedPiece - 4;
inline constexpr std::size_t kTruncatedPrefix = 256;

class PacketFramer {
 public:
  explicit PacketFramer(ParserStats& stats) : stats_(stats) {}

  // Feeds one chunk. on_packet(const Packet&) returns false to stop: the rest
  // of the chunk is dropped (the caller has reset or stopped this direction).
  template <typename OnPacket>
  void Feed(std::string_view bytes, std::uint64_t ts_ns, OnPacket&& on_packet);

  // Drops everything buffered and waits for a chunk that starts with a packet
  // header carrying `expected_seq`.
  void ResyncAtNextChunk(std::uint8_t expected_seq);
  bool resyncing() const { return mode_ != Mode::kNormal; }

 private:
  enum class Mode : std::uint8_t { kNormal, kWaitChunkStart, kCheckFirst };

  // Parses what is buffered; false if on_packet asked to stop.
  template <typename OnPacket>
  bool Drain(std::uint64_t ts_ns, OnPacket& on_packet);
  void Reset();

  ParserStats& stats_;
  StreamBuffer buf_;
  Mode mode_ = Mode::kNormal;
  std::uint8_t expected_seq_ = 0;
  // Oversized / multi-packet payload being skipped.
  std::uint64_t skip_ = 0;     // bytes of the current packet still to drop
  bool in_oversized_ = false;  // a truncated payload is being assembled
  bool continuation_ = false;  // the next packet continues the payload
  std::string prefix_;         // first bytes of the oversized payload
  std::uint8_t oversized_seq_ = 0;
};

// Length-encoded integer (0xFB is NULL in rows, an error elsewhere).
std::optional<std::uint64_t> ReadLenencInt(BinaryReader& r);

// OK packet (header 0x00, or 0xFE when it replaces EOF under
// CLIENT_DEPRECATE_EOF) and the 4.1 EOF packet (0xFE, 5 bytes).
struct OkInfo {
  std::uint64_t affected_rows = 0;
  std::uint16_t status = 0;
};
std::optional<OkInfo> ParseOk(std::string_view payload);
std::optional<OkInfo> ParseEof(std::string_view payload);  // affected_rows = 0

struct ErrInfo {
  std::uint16_t code = 0;
  std::string sqlstate;  // "" if the server sent none (pre-4.1 or handshake)
};
std::optional<ErrInfo> ParseErr(std::string_view payload);

// --- template implementation ---

template <typename OnPacket>
void PacketFramer::Feed(std::string_view bytes, std::uint64_t ts_ns, OnPacket&& on_packet) {
  if (mode_ == Mode::kWaitChunkStart) mode_ = Mode::kCheckFirst;
  while (!bytes.empty()) {
    if (skip_ > 0) {
      std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(skip_, bytes.size()));
      skip_ -= n;
      bytes.remove_prefix(n);
      if (skip_ == 0 && !continuation_) {
        in_oversized_ = false;
        std::string prefix = std::move(prefix_);
        prefix_.clear();
        if (!on_packet(Packet{prefix, oversized_seq_, true, ts_ns})) return;
      }
      continue;
    }
    std::size_t n = std::min(bytes.size(), kFeedPiece);
    if (!buf_.Append(bytes.substr(0, n), ts_ns)) {
      // Cannot happen by construction (Drain keeps less than one whole packet
      // buffered); treat it as corruption rather than trusting that.
      ++stats_.parse_errors;
      ResyncAtNextChunk(0);
      return;
    }
    bytes.remove_prefix(n);
    if (!Drain(ts_ns, on_packet)) return;
    if (mode_ == Mode::kWaitChunkStart) return;  // first header rejected
  }
}

template <typename OnPacket>
bool PacketFramer::Drain(std::uint64_t ts_ns, OnPacket& on_packet) {
  while (skip_ == 0) {
    std::string_view data = buf_.data();
    BinaryReader r(data);
    auto len = r.U24Le();
    auto seq = r.U8();
    if (!len || !seq) return true;
    if (mode_ == Mode::kCheckFirst) {
      if (*seq != expected_seq_ || *len > kMaxWholePayload) {
        buf_.Clear();
        mode_ = Mode::kWaitChunkStart;
        return true;
      }
      mode_ = Mode::kNormal;
      ++stats_.resyncs;
    }
    std::size_t have = data.size() - kHeaderSize;
    if (in_oversized_) {
      // Continuation packet of a multi-packet payload: drop it.
      continuation_ = (*len == kMaxPacketPayload);
      if (*len <= have) {
        buf_.Consume(kHeaderSize + *len);
        if (!continuation_) {
          in_oversized_ = false;
          std::string prefix = std::move(prefix_);
          prefix_.clear();
          if (!on_packet(Packet{prefix, oversized_seq_, true, ts_ns})) return false;
        }
        continue;
      }
      skip_ = *len - have;
      buf_.Clear();
      return true;
    }
    if (*len > kMaxWholePayload) {
      ++stats_.parse_errors;
      in_oversized_ = true;
      continuation_ = (*len == kMaxPacketPayload);
      oversized_seq_ = *seq;
      prefix_.assign(data.substr(kHeaderSize, std::min(have, kTruncatedPrefix)));
      skip_ = *len - have;
      buf_.Clear();
      return true;
    }
    if (*len > have) return true;  // wait for the rest
    Packet p{data.substr(kHeaderSize, *len), *seq, false, ts_ns};
    buf_.Consume(kHeaderSize + *len);
    if (!on_packet(p)) return false;
  }
  return true;
}

}  // namespace waitscope::protocols::mysql
