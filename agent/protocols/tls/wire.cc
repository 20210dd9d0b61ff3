#include "protocols/tls/wire.h"

namespace waitscope::protocols::tls {
namespace {

// legacy_version(2) + random(32) + session_id length(1) + one cipher suite
// (2 + 2) + one compression method (1 + 1).
constexpr std::uint32_t kMinClientHelloBody = 41;
// legacy_version(2) + random(32) + session_id length(1) + cipher(2) +
// compression(1).
constexpr std::uint32_t kMinServerHelloBody = 38;

std::uint8_t At(std::string_view b, std::size_t i) {
  return static_cast<std::uint8_t>(b[i]);
}

// Record type byte, then version 3.0..3.4: decides as many bytes as present.
Verdict VersionPrefix(std::string_view b, std::uint8_t type) {
  if (b.empty()) return Verdict::kNeedMore;
  if (At(b, 0) != type) return Verdict::kNo;
  if (b.size() < 2) return Verdict::kNeedMore;
  if (At(b, 1) != 3) return Verdict::kNo;
  if (b.size() < 3) return Verdict::kNeedMore;
  if (At(b, 2) > 4) return Verdict::kNo;
  return Verdict::kYes;
}

// A handshake record whose first message has `hs_type` and a body of at
// least `min_body` bytes, version 3.x in its first two body bytes.
Verdict HelloStart(std::string_view b, std::uint8_t hs_type, std::uint32_t min_body) {
  Verdict v = VersionPrefix(b, kHandshake);
  if (v != Verdict::kYes) return v;
  if (b.size() < kRecordHeaderBytes) return Verdict::kNeedMore;
  RecordHeader h = ReadRecordHeader(b);
  if (h.length == 0 || h.length > kMaxPlaintextBytes) return Verdict::kNo;
  if (b.size() < 6) return Verdict::kNeedMore;
  if (At(b, 5) != hs_type) return Verdict::kNo;
  if (h.length < 4) return Verdict::kYes;  // a fragmented hello: the rest is in later records
  if (b.size() < 9) return Verdict::kNeedMore;
  const std::uint32_t hs_len =
      (std::uint32_t{At(b, 6)} << 16) | (std::uint32_t{At(b, 7)} << 8) | std::uint32_t{At(b, 8)};
  if (hs_len < min_body) return Verdict::kNo;
  if (h.length < 6) return Verdict::kYes;
  if (b.size() < 11) return Verdict::kNeedMore;
  return At(b, 9) == 3 && At(b, 10) <= 4 ? Verdict::kYes : Verdict::kNo;
}

}  // namespace

RecordHeader ReadRecordHeader(std::string_view five) {
  RecordHeader h;
  h.type = At(five, 0);
  h.version = static_cast<std::uint16_t>((At(five, 1) << 8) | At(five, 2));
  h.length = static_cast<std::uint16_t>((At(five, 3) << 8) | At(five, 4));
  return h;
}

bool PlausibleRecordHeader(const RecordHeader& h) {
  if ((h.version >> 8) != 3 || (h.version & 0xff) > 4) return false;
  switch (h.type) {
    case kChangeCipherSpec:
      return h.length == 1;
    case kAlert:
      return h.length >= 2 && h.length <= kMaxRecordBytes;
    case kHandshake:
    case kApplicationData:
      return h.length >= 1 && h.length <= kMaxRecordBytes;
    default:
      return false;
  }
}

Verdict ClientHelloStart(std::string_view bytes) {
  return HelloStart(bytes, kHandshakeClientHello, kMinClientHelloBody);
}

Verdict ServerStart(std::string_view bytes) {
  if (!bytes.empty() && At(bytes, 0) == kAlert) {
    Verdict v = VersionPrefix(bytes, kAlert);
    if (v != Verdict::kYes) return v;
    if (bytes.size() < 6) return Verdict::kNeedMore;
    // A cleartext alert: length 2, level warning (1) or fatal (2).
    if (ReadRecordHeader(bytes).length != 2) return Verdict::kNo;
    return At(bytes, 5) == 1 || At(bytes, 5) == 2 ? Verdict::kYes : Verdict::kNo;
  }
  return HelloStart(bytes, kHandshakeServerHello, kMinServerHelloBody);
}

Verdict AnyRecordStart(std::string_view bytes) {
  if (bytes.empty()) return Verdict::kNeedMore;
  const std::uint8_t type = At(bytes, 0);
  if (type < kChangeCipherSpec || type > kApplicationData) return Verdict::kNo;
  Verdict v = VersionPrefix(bytes, type);
  if (v != Verdict::kYes) return v;
  if (bytes.size() < kRecordHeaderBytes) return Verdict::kNeedMore;
  return PlausibleRecordHeader(ReadRecordHeader(bytes)) ? Verdict::kYes : Verdict::kNo;
}

std::string VersionName(std::uint16_t version) {
  switch (version) {
    case 0x0300:
      return "SSLv3";
    case 0x0301:
      return "TLSv1.0";
    case 0x0302:
      return "TLSv1.1";
    case 0x0303:
      return "TLSv1.2";
    case 0x0304:
      return "TLSv1.3";
    default:
      return "unknown";
  }
}

}  // namespace waitscope::protocols::tls
