// TLS record-layer constants and the checks that decide whether bytes look
// like the start of a TLS record (RFC 8446 §5.1, RFC 5246 §6.2). Pure
// functions on a byte view: they never read past it and never allocate.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace waitscope::protocols::tls {

inline constexpr std::uint8_t kChangeCipherSpec = 20;
inline constexpr std::uint8_t kAlert = 21;
inline constexpr std::uint8_t kHandshake = 22;
inline constexpr std::uint8_t kApplicationData = 23;

inline constexpr std::uint8_t kHandshakeClientHello = 1;
inline constexpr std::uint8_t kHandshakeServerHello = 2;

inline constexpr std::size_t kRecordHeaderBytes = 5;
// TLSCiphertext.length may reach 2^14 + 2048 (TLS 1.2); anything longer is
// not a record.
inline constexpr std::size_t kMaxRecordBytes = (1 << 14) + 2048;
// TLSPlaintext (ClientHello, ServerHello, alerts) is at most 2^14.
inline constexpr std::size_t kMaxPlaintextBytes = 1 << 14;

struct RecordHeader {
  std::uint8_t type = 0;
  std::uint16_t version = 0;  // record-layer version, 0x0300..0x0304
  std::uint16_t length = 0;
};

// Reads a header from the first 5 bytes (the caller checks there are 5).
RecordHeader ReadRecordHeader(std::string_view five);

// A content type we know, version 3.x with x <= 4, and a length a peer may
// send for that type (CCS: 1 byte, alert: 2 bytes or an encrypted alert).
bool PlausibleRecordHeader(const RecordHeader& h);

// Whether bytes start with a TLS record of a given shape. kNeedMore: too few
// bytes to tell, and every byte so far fits.
enum class Verdict : std::uint8_t { kNo, kYes, kNeedMore };

// A handshake record holding a ClientHello: 0x16 0x03 0x0[0-4], length
// 1..2^14, handshake type 1, a ClientHello length of at least the minimal
// body, client_version 3.x. Decided on the first 11 bytes.
Verdict ClientHelloStart(std::string_view bytes);
// The server's first record: a handshake record holding a ServerHello, or a
// cleartext alert (a server that refuses the ClientHello).
Verdict ServerStart(std::string_view bytes);
// Any plausible record header (resynchronising after a gap or an error).
Verdict AnyRecordStart(std::string_view bytes);

// "TLSv1.2" for 0x0303, "TLSv1.3" for 0x0304, ... "unknown" otherwise.
std::string VersionName(std::uint16_t version);

}  // namespace waitscope::protocols::tls
