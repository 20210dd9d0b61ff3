// libFuzzer target for the HTTP/1.x parser. Input layout:
//   byte 0: bits 0-5 piece size (0: whole), bit 6: OnClose at the end,
//           bit 7: capture_values;
//   byte 1: where the rest splits into client bytes | server bytes (x/255);
//   rest:   the two streams, fed alternately piece by piece, with a gap
//           whenever a piece starts with 0xff.
// Seeds (corpus/http1) are nginx captures laid out this way.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "protocols/http1/parser.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::size_t piece_cfg = data[0] & 0x3f;
  const bool close = (data[0] & 0x40) != 0;
  waitscope::protocols::ParserOptions opts;
  opts.capture_values = (data[0] & 0x80) != 0;
  std::string_view rest(reinterpret_cast<const char*>(data + 2), size - 2);
  std::size_t split = rest.size() * data[1] / 255;
  std::string_view req = rest.substr(0, split);
  std::string_view resp = rest.substr(split);

  waitscope::protocols::http1::Http1Parser parser(opts);
  std::size_t piece = piece_cfg == 0 ? rest.size() + 1 : piece_cfg;
  std::uint64_t ts = 1;
  using waitscope::protocols::Direction;
  while (!req.empty() || !resp.empty()) {
    for (auto [s, dir] :
         {std::pair{&req, Direction::kRequest}, std::pair{&resp, Direction::kResponse}}) {
      if (s->empty()) continue;
      std::string_view chunk = s->substr(0, piece);
      s->remove_prefix(chunk.size());
      if (static_cast<std::uint8_t>(chunk[0]) == 0xff) {
        parser.OnGap(dir, chunk.size());
      } else {
        parser.OnData(dir, chunk, ts++);
      }
    }
    (void)parser.TakeExchanges();
  }
  if (close) parser.OnClose(ts);
  (void)parser.TakeExchanges();
  return 0;
}
