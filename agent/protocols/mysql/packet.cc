#include "protocols/mysql/packet.h"

#include "protocols/mysql/types.h"

namespace waitscope::protocols::mysql {

void PacketFramer::Reset() {
  buf_.Clear();
  skip_ = 0;
  in_oversized_ = false;
  continuation_ = false;
  prefix_.clear();
  gap_skip_ = false;
  gap_length_ = 0;
}

void PacketFramer::ResyncAtNextChunk(std::uint8_t expected_seq) {
  Reset();
  mode_ = Mode::kWaitChunkStart;
  expected_seq_ = expected_seq;
}

std::optional<std::uint64_t> ReadLenencInt(BinaryReader& r) {
  auto first = r.U8();
  if (!first) return std::nullopt;
  if (*first < 0xfb) return *first;
  switch (*first) {
    case 0xfc: {
      auto v = r.U16Le();
      return v ? std::optional<std::uint64_t>(*v) : std::nullopt;
    }
    case 0xfd: {
      auto v = r.U24Le();
      return v ? std::optional<std::uint64_t>(*v) : std::nullopt;
    }
    case 0xfe:
      return r.U64Le();
    default:  // 0xfb (NULL) and 0xff are not integers
      return std::nullopt;
  }
}

std::optional<OkInfo> ParseOk(std::string_view payload) {
  BinaryReader r(payload);
  auto header = r.U8();
  if (!header || (*header != kOkHeader && *header != kEofHeader)) return std::nullopt;
  auto affected = ReadLenencInt(r);
  auto last_insert_id = ReadLenencInt(r);
  auto status = r.U16Le();
  if (!affected || !last_insert_id || !status) return std::nullopt;
  return OkInfo{*affected, *status};
}

std::optional<OkInfo> ParseEof(std::string_view payload) {
  BinaryReader r(payload);
  auto header = r.U8();
  auto warnings = r.U16Le();
  auto status = r.U16Le();
  if (!header || *header != kEofHeader || !warnings || !status) return std::nullopt;
  return OkInfo{0, *status};
}

std::optional<ErrInfo> ParseErr(std::string_view payload) {
  BinaryReader r(payload);
  auto header = r.U8();
  auto code = r.U16Le();
  if (!header || *header != kErrHeader || !code) return std::nullopt;
  ErrInfo err{*code, ""};
  // Protocol 4.1: '#' and a 5-character SQLSTATE precede the message.
  if (!r.empty() && r.rest()[0] == '#') {
    r.Skip(1);
    if (auto state = r.Bytes(5)) err.sqlstate.assign(*state);
  }
  return err;
}

}  // namespace waitscope::protocols::mysql
