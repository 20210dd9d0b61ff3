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
#include <utility>

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
  // Declared payload length (== payload.size() unless truncated).
  std::size_t length = 0;
  // Truncated because the capture lost the packet's tail (OnGap inside the
  // packet), not because it is oversized: payload is a true prefix of a
  // packet of `length` bytes, so the parser may still classify it.
  bool gap = false;
};

// Bytes are fed to the StreamBuffer in pieces of at most this size, so one
// buffered (unfinished) packet plus one piece always fits kMaxBufferedBytes.
inline constexpr std::size_t kFeedPiece = 64 * 1024;
inline constexpr std::size_t kMaxWholePayload = kMaxBufferedBytes - kFeedPiece - 4;
inline constexpr std::size_t kTruncatedPrefix = 256;
// First bytes kept of a packet cut by a gap (a long statement's text).
inline constexpr std::size_t kGapPrefix = 16 * 1024;

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

  // `n` bytes of this direction were lost right after what was fed
  // (--capture-bytes cut a syscall). If they fall inside the packet being
  // assembled (its header is buffered, so its length is known), they are
  // skipped and true is returned: framing is intact, and if the gap ends
  // exactly at the packet's end the packet is delivered now, truncated with
  // gap = true. If the gap runs past the packet's end, the packet is still
  // delivered (truncated, gap = true) but false is returned: the next header
  // was lost and the caller must resynchronise. False without delivering
  // anything if no header is buffered (gap at a packet boundary or inside a
  // header) or a multi-packet payload is being skipped.
  template <typename OnPacket>
  bool SkipGap(std::uint64_t n, OnPacket&& on_packet);

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
  bool gap_skip_ = false;       // skip_ is the tail of a packet cut by a gap
  std::size_t gap_length_ = 0;  // declared length of that packet
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
        const bool gap = std::exchange(gap_skip_, false);
        if (!on_packet(Packet{prefix, oversized_seq_, true, ts_ns, gap ? gap_length_ : 0, gap}))
          return;
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
    Packet p{data.substr(kHeaderSize, *len), *seq, false, ts_ns, *len, false};
    buf_.Consume(kHeaderSize + *len);
    if (!on_packet(p)) return false;
  }
  return true;
}

template <typename OnPacket>
bool PacketFramer::SkipGap(std::uint64_t n, OnPacket&& on_packet) {
  if (mode_ != Mode::kNormal || n == 0) return false;
  if (skip_ > 0) {
    // Already dropping the tail of a packet (oversized, or cut by an earlier
    // gap): the lost bytes are more of it if they fit.
    if (n > skip_) return false;
    skip_ -= n;
    if (skip_ == 0 && !continuation_) {
      in_oversized_ = false;
      std::string prefix = std::move(prefix_);
      prefix_.clear();
      const bool gap = std::exchange(gap_skip_, false);
      on_packet(Packet{prefix, oversized_seq_, true, buf_.last_ts_ns(), gap ? gap_length_ : 0, gap});
    }
    return true;
  }
  if (in_oversized_) return false;  // between packets of a multi-packet payload
  std::string_view data = buf_.data();
  BinaryReader r(data);
  auto len = r.U24Le();
  auto seq = r.U8();
  if (!len || !seq || *len == kMaxPacketPayload) return false;  // header unknown / multi-packet
  const std::size_t have = data.size() - kHeaderSize;
  if (have >= *len) return false;  // cannot happen: Drain delivers whole packets
  const std::uint64_t left = *len - have;
  Packet p{data.substr(kHeaderSize), *seq, true, buf_.last_ts_ns(), *len, true};
  if (n < left) {
    // The packet's tail is partly lost, partly still to come: keep its
    // first bytes and drop the rest as it arrives.
    prefix_.assign(data.substr(kHeaderSize, std::min(have, kGapPrefix)));
    oversized_seq_ = *seq;
    in_oversized_ = true;
    continuation_ = false;
    gap_skip_ = true;
    gap_length_ = *len;
    skip_ = left - n;
    buf_.Clear();
    return true;
  }
  std::string keep(p.payload.substr(0, kGapPrefix));
  p.payload = keep;
  buf_.Clear();
  on_packet(p);
  return n == left;
}

}  // namespace waitscope::protocols::mysql
