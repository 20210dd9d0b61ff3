// Decoding of the two cleartext messages that say what a TLS handshake
// negotiated: ClientHello and ServerHello (RFC 8446 §4.1.2-4.1.4, RFC 5246
// §7.4.1, server_name from RFC 6066 §3). Input is one whole handshake
// message body (without its 4-byte header); decoding is bounds-checked and
// returns nullopt on malformed input. Nothing else of the messages is kept:
// no random, no key shares, no cipher lists.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace waitscope::protocols::tls {

struct ClientHelloInfo {
  std::string session_id;  // legacy_session_id, raw bytes (<= 32)
  std::string sni;         // host_name of server_name; empty if absent or not a host name
};

struct ServerHelloInfo {
  std::uint16_t version = 0;  // supported_versions if present, else legacy_version
  std::string session_id;     // legacy_session_id_echo
  bool hello_retry = false;   // the HelloRetryRequest random (RFC 8446 §4.1.3)
  bool psk_accepted = false;  // pre_shared_key extension: TLS 1.3 resumption
};

std::optional<ClientHelloInfo> ParseClientHello(std::string_view body);
std::optional<ServerHelloInfo> ParseServerHello(std::string_view body);

}  // namespace waitscope::protocols::tls
