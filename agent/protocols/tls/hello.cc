#include "protocols/tls/hello.h"

#include "protocols/common/binary_reader.h"

namespace waitscope::protocols::tls {
namespace {

constexpr std::uint16_t kExtServerName = 0;
constexpr std::uint16_t kExtPreSharedKey = 41;
constexpr std::uint16_t kExtSupportedVersions = 43;
constexpr std::size_t kMaxSessionIdBytes = 32;
constexpr std::size_t kMaxHostNameBytes = 253;

// SHA-256("HelloRetryRequest"): a ServerHello with this random is an HRR.
constexpr unsigned char kHelloRetryRandom[32] = {
    0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
    0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C};

bool IsHelloRetryRandom(std::string_view random) {
  return random == std::string_view(reinterpret_cast<const char*>(kHelloRetryRandom), 32);
}

// Only letters, digits, '-', '_' and '.': a DNS name. Anything else (an
// IP literal is not allowed in SNI; binary junk) is dropped, so the report
// never carries arbitrary bytes.
bool IsHostName(std::string_view s) {
  if (s.empty() || s.size() > kMaxHostNameBytes) return false;
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

std::optional<std::string_view> Vector8(BinaryReader& r) {
  auto n = r.U8();
  if (!n) return std::nullopt;
  return r.Bytes(*n);
}

std::optional<std::string_view> Vector16(BinaryReader& r) {
  auto n = r.U16Be();
  if (!n) return std::nullopt;
  return r.Bytes(*n);
}

// ServerNameList: list<ServerName{type, opaque name<1..2^16-1>}>.
std::string HostName(std::string_view ext) {
  BinaryReader r(ext);
  auto list = Vector16(r);
  if (!list) return {};
  BinaryReader names(*list);
  while (!names.empty()) {
    auto type = names.U8();
    auto name = Vector16(names);
    if (!type || !name) return {};
    if (*type == 0) return IsHostName(*name) ? std::string(*name) : std::string();
  }
  return {};
}

// Calls on_ext(type, data) for each extension; false if the block is malformed.
template <typename F>
bool ForEachExtension(BinaryReader& r, F on_ext) {
  if (r.empty()) return true;  // TLS 1.0-1.2 hellos may have no extensions
  auto block = Vector16(r);
  if (!block) return false;
  BinaryReader ext(*block);
  while (!ext.empty()) {
    auto type = ext.U16Be();
    auto data = Vector16(ext);
    if (!type || !data) return false;
    on_ext(*type, *data);
  }
  return true;
}

}  // namespace

std::optional<ClientHelloInfo> ParseClientHello(std::string_view body) {
  BinaryReader r(body);
  ClientHelloInfo info;
  auto version = r.U16Be();
  if (!version || !r.Skip(32)) return std::nullopt;
  auto sid = Vector8(r);
  if (!sid || sid->size() > kMaxSessionIdBytes) return std::nullopt;
  info.session_id = std::string(*sid);
  auto suites = Vector16(r);
  auto compression = Vector8(r);
  if (!suites || !compression) return std::nullopt;
  bool ok = ForEachExtension(r, [&](std::uint16_t type, std::string_view data) {
    if (type == kExtServerName && info.sni.empty()) info.sni = HostName(data);
  });
  if (!ok) return std::nullopt;
  return info;
}

std::optional<ServerHelloInfo> ParseServerHello(std::string_view body) {
  BinaryReader r(body);
  ServerHelloInfo info;
  auto version = r.U16Be();
  auto random = r.Bytes(32);
  if (!version || !random) return std::nullopt;
  info.version = *version;
  info.hello_retry = IsHelloRetryRandom(*random);
  auto sid = Vector8(r);
  if (!sid || sid->size() > kMaxSessionIdBytes) return std::nullopt;
  info.session_id = std::string(*sid);
  if (!r.Skip(2) || !r.Skip(1)) return std::nullopt;  // cipher_suite, compression_method
  bool ok = ForEachExtension(r, [&](std::uint16_t type, std::string_view data) {
    if (type == kExtSupportedVersions && data.size() == 2) {
      info.version = static_cast<std::uint16_t>((static_cast<std::uint8_t>(data[0]) << 8) |
                                                static_cast<std::uint8_t>(data[1]));
    } else if (type == kExtPreSharedKey) {
      info.psk_accepted = true;
    }
  });
  if (!ok) return std::nullopt;
  return info;
}

}  // namespace waitscope::protocols::tls
