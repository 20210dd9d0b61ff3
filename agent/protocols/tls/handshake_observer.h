// TLS handshake observer: reads only the cleartext TLS record layer of one
// connection (both directions) and reports its handshake: negotiated
// version, resumption, HelloRetryRequest, fatal alert, timing and the
// client's round trips. It never decrypts anything, so it works the same
// for OpenSSL, BoringSSL, GnuTLS, Go, Java... (docs/protocols/tls.md).
//
// Streaming contract (as protocols/common/connection_parser.h): bytes in
// order per direction, in chunks of any size, with the time of the syscall
// that carried them; chunks of both directions in time order. Buffers at
// most one ClientHello/ServerHello message (kMaxHelloBytes) per direction;
// record bodies of other messages and application_data are skipped by
// length, never copied. Hostile input is a counted parse error, never a
// crash.
//
// Timing (the rule, see docs/protocols/tls.md for why):
//  - start_ns: the chunk holding the first ClientHello byte;
//  - end_ns: the chunk holding the record that completes the handshake for
//    BOTH peers, i.e. the last Finished: TLS 1.2 full = the server's
//    Finished (first record after its ChangeCipherSpec), TLS 1.2
//    abbreviated = the client's Finished; TLS 1.3 = the client's Finished =
//    its first application_data-typed record after the ServerHello that is
//    at least kMinFinishedRecordBytes long. Failed: the alert's chunk, or
//    the close.
//
// The caller may feed a connection from its first byte: bytes before the
// ClientHello (PostgreSQL SSLRequest + 'S', MySQL greeting + SSL request)
// are skipped without error, see TlsStartOffset. Gaps inside bytes the
// observer skips anyway cost nothing; a gap that hits a ClientHello or
// ServerHello abandons the handshake (one parse error, nothing reported).
// Not thread-safe: one connection, one thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "protocols/common/exchange.h"

namespace waitscope::protocols::tls {

struct Handshake {
  // "TLSv1.0".."TLSv1.3" (ServerHello's supported_versions beats its
  // legacy version); "unknown" if it failed before the ServerHello.
  std::string version;
  // 1.2: the ServerHello echoes the ClientHello's non-empty session id, or
  // the server's ChangeCipherSpec comes before the client's (abbreviated
  // handshake: session id or ticket); 1.3: ServerHello has pre_shared_key.
  bool resumed = false;
  bool hello_retry = false;  // HelloRetryRequest seen
  bool failed = false;       // alert during the handshake, or closed before it completed
  std::uint8_t alert = 0;    // alert description when failed (0 if unknown: encrypted, or a close)
  std::uint64_t start_ns = 0;     // chunk holding the first ClientHello byte
  std::uint64_t end_ns = 0;       // chunk completing the handshake (see above), or the failure
  std::uint32_t round_trips = 0;  // client flights that waited for a server flight
  std::string sni;                // server_name host name from the ClientHello
};

// Offset in the client's first bytes where TLS starts: 0 for a ClientHello
// record, 8 after a PostgreSQL SSLRequest, 36 after a MySQL SSL request
// packet (whether or not the ClientHello has arrived yet), npos otherwise.
std::size_t TlsStartOffset(std::string_view first_client_bytes);

// 0x16 0x03 0x0[0-4], record length 1..2^14, handshake type 1 (ClientHello),
// and as far as present a plausible ClientHello length and version. Needs at
// least 6 bytes. For protocol detection.
bool LooksLikeTlsClientHello(std::string_view first_client_bytes);

class HandshakeObserver {
 public:
  // Largest ClientHello/ServerHello body kept for decoding; a larger one is
  // a parse error (its handshake is still timed, without SNI).
  static constexpr std::size_t kMaxHelloBytes = 64 * 1024;
  // A TLS 1.3 Finished record holds >= 4 + 32 + 1 bytes (header, SHA-256
  // verify_data, inner content type); a shorter first encrypted client
  // record is an encrypted alert (2 + 1 + tag = 19 bytes with AEAD tags).
  static constexpr std::size_t kMinFinishedRecordBytes = 37;

  HandshakeObserver();
  ~HandshakeObserver();
  HandshakeObserver(HandshakeObserver&&) noexcept;
  HandshakeObserver& operator=(HandshakeObserver&&) noexcept;

  void OnData(Direction dir, std::string_view bytes, std::uint64_t ts_ns);
  void OnGap(Direction dir, std::uint64_t missing_bytes);
  // A handshake in progress becomes failed (alert 0).
  void OnClose(std::uint64_t ts_ns);

  // Moves out the completed or failed handshakes (at most one per
  // connection: renegotiation in TLS 1.2 is encrypted, and not seen).
  std::vector<Handshake> TakeHandshakes();
  // The handshake completed or failed, or the observer gave up on the
  // connection: the caller may stop feeding it.
  bool HandshakeDone() const;
  const ParserStats& stats() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace waitscope::protocols::tls
