// libFuzzer target for the Redis parser. Input layout:
//   byte 0: bits 0-5 piece size - 1 (1..64 bytes per OnData call),
//           bit 6 ParserOptions::capture_values, bit 7 insert gaps;
//   byte 1: direction pattern, bit (i % 8) = 1 sends piece i as a response;
//   rest:   the bytes, cut into pieces.
// Seeds (tests/fuzz/corpus/redis) are request-only and response-only streams
// from the captures in agent/protocols/redis/testdata.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "protocols/redis/parser.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using waitscope::protocols::Direction;
  if (size < 2) return 0;
  const std::size_t piece = (data[0] & 0x3f) + 1;
  waitscope::protocols::ParserOptions options;
  options.capture_values = (data[0] & 0x40) != 0;
  const bool gaps = (data[0] & 0x80) != 0;
  const std::uint8_t dirs = data[1];
  auto parser = waitscope::protocols::MakeRedisParser(options);
  std::string_view rest(reinterpret_cast<const char*>(data + 2), size - 2);
  std::uint64_t ts = 1;
  for (std::size_t i = 0, off = 0; off < rest.size(); ++i, off += piece) {
    Direction dir = (dirs >> (i % 8)) & 1 ? Direction::kResponse : Direction::kRequest;
    if (gaps && i % 13 == 12) {
      parser->OnGap(dir, piece);
      continue;
    }
    parser->OnData(dir, rest.substr(off, piece), ts++);
    if (i % 7 == 0) (void)parser->TakeExchanges();
  }
  (void)parser->TakeExchanges();
  (void)parser->stats();
  return 0;
}
