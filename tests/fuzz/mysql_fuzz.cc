// libFuzzer target for the MySQL parser. Input: byte 0 is the mode (bit 0:
// start in the command phase after a canned handshake; bits 1-7: if non-zero,
// deliver every chunk in pieces of that many bytes). The rest is a list of
// chunks: 1 flag byte (bit 7: response direction, bit 6: a gap before it),
// 2-byte little-endian length, data. The seed corpus holds the recorded test
// connections in this format (tests/fuzz/corpus/mysql/). Exchanges are taken
// after every few chunks, and the connection is closed at the end.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "protocols/mysql/parser.h"

using waitscope::protocols::Direction;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::uint8_t mode = data[0];
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  auto parser = waitscope::protocols::MakeMysqlParser({});
  if (mode & 1) {
    // Minimal v10 handshake (no extended caps), then an auth OK: the fuzz
    // bytes land in the command phase.
    static const char kHandshake[] =
        "\x38\x00\x00\x00\x0a"
        "5.5.5-fuzz\x00"
        "\x01\x00\x00\x00"
        "abcdefgh\x00"
        "\xfe\xf7\x2d\x02\x00\xff\x81\x15\x00\x00\x00\x00\x00\x00\x1d\x00\x00\x00"
        "ijklmnopqrst\x00";
    parser->OnData(Direction::kResponse, std::string_view(kHandshake, sizeof(kHandshake) - 1), 1);
    static const char kResponse[] =
        "\x24\x00\x00\x01\x0d\xa2\x3b\x00\xff\xff\xff\x00\x2d"  // caps, max packet, charset
        "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
        "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"  // 23 reserved bytes
        "app\x00";
    parser->OnData(Direction::kRequest, std::string_view(kResponse, sizeof(kResponse) - 1), 2);
    parser->OnData(Direction::kResponse,
                   std::string_view("\x07\x00\x00\x02\x00\x00\x00\x02\x00\x00\x00", 11), 3);
  }
  const std::size_t piece = mode >> 1;
  std::uint64_t ts = 10;
  while (in.size() >= 3) {
    const auto flags = static_cast<std::uint8_t>(in[0]);
    const std::size_t len = static_cast<std::uint8_t>(in[1]) |
                            (static_cast<std::size_t>(static_cast<std::uint8_t>(in[2])) << 8);
    in.remove_prefix(3);
    std::string_view chunk = in.substr(0, len);
    in.remove_prefix(chunk.size());
    const Direction dir = (flags & 0x80) ? Direction::kResponse : Direction::kRequest;
    if (flags & 0x40) parser->OnGap(dir, 100);
    if (piece == 0) {
      parser->OnData(dir, chunk, ts);
    } else {
      for (std::size_t off = 0; off < chunk.size(); off += piece) {
        parser->OnData(dir, chunk.substr(off, piece), ts);
      }
    }
    if (++ts % 4 == 0) parser->TakeExchanges();
  }
  parser->OnClose(ts);  // reports what is still open (cursor runs)
  parser->TakeExchanges();
  return 0;
}
