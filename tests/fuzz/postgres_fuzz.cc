// libFuzzer target for the PostgreSQL parser. Input format, so seeds can be
// real recorded connections (tests/fuzz/corpus/postgres/, made from
// agent/protocols/postgres/testdata/*.capture):
//   byte 0: bit 0 capture_values, bits 1..4 piece size (0: whole records)
//   then records: u16 big-endian header (bit 15: response, bit 14: a gap
//   before the record, bits 0..13: length), followed by that many bytes.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "protocols/postgres/parser.h"

using waitscope::protocols::Direction;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  waitscope::protocols::ParserOptions options;
  options.capture_values = (data[0] & 1) != 0;
  const std::size_t piece = (data[0] >> 1) & 0x0f;
  auto parser = waitscope::protocols::MakePostgresParser(options);
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::uint64_t ts = 0;
  while (in.size() >= 2) {
    auto hdr = static_cast<std::uint16_t>((static_cast<std::uint8_t>(in[0]) << 8) |
                                          static_cast<std::uint8_t>(in[1]));
    in.remove_prefix(2);
    Direction dir = (hdr & 0x8000) ? Direction::kResponse : Direction::kRequest;
    std::string_view rec = in.substr(0, hdr & 0x3fff);
    in.remove_prefix(rec.size());
    if (hdr & 0x4000) parser->OnGap(dir, rec.size() + 1);
    ++ts;
    if (piece == 0) {
      parser->OnData(dir, rec, ts);
    } else {
      for (std::size_t off = 0; off < rec.size(); off += piece)
        parser->OnData(dir, rec.substr(off, piece), ts);
    }
    if (ts % 4 == 0) (void)parser->TakeExchanges();
  }
  (void)parser->TakeExchanges();
  return 0;
}
