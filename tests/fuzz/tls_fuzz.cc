// libFuzzer target for the TLS handshake observer. Input layout:
//   byte 0: bit 0 OnClose at the end;
//   then chunks: tag byte (bit 0: server->client, bit 1: a gap instead of
//   data), 2-byte big-endian length, then that many data bytes (a gap has
//   none: the length is the bytes lost). A short last chunk takes the rest.
// Seeds (corpus/tls) are the captures of agent/protocols/tls/testdata laid
// out this way, whole and cut into small chunks. Besides crashes and
// sanitizer reports, it traps on broken invariants: more than one
// handshake per connection, or one that ends before it starts.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "protocols/tls/handshake_observer.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using waitscope::protocols::Direction;
  namespace tls = waitscope::protocols::tls;
  if (size < 1) return 0;
  const bool close = (data[0] & 1) != 0;
  std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  tls::HandshakeObserver observer;
  std::size_t handshakes = 0;
  auto take = [&] {
    for (const tls::Handshake& h : observer.TakeHandshakes()) {
      ++handshakes;
      if (handshakes > 1 || h.end_ns < h.start_ns) __builtin_trap();
    }
  };
  std::uint64_t ts = 1;
  while (rest.size() >= 3) {
    const auto tag = static_cast<std::uint8_t>(rest[0]);
    const std::size_t len = (static_cast<std::size_t>(static_cast<std::uint8_t>(rest[1])) << 8) |
                            static_cast<std::uint8_t>(rest[2]);
    rest.remove_prefix(3);
    const Direction dir = (tag & 1) ? Direction::kResponse : Direction::kRequest;
    if (tag & 2) {
      observer.OnGap(dir, len);
      continue;
    }
    const std::string_view chunk = rest.substr(0, len);
    rest.remove_prefix(chunk.size());
    observer.OnData(dir, chunk, ts++);
    take();
  }
  if (close) observer.OnClose(ts);
  take();
  (void)observer.HandshakeDone();
  (void)observer.stats();
  return 0;
}
