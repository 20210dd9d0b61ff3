// MySQL/MariaDB client/server protocol constants (command bytes, capability
// and status flags, packet header bytes) shared by the MySQL framer and
// parser. Values come from the MySQL source (include/mysql_com.h) and the
// MariaDB protocol docs; see docs/protocols/mysql.md. Plain constants only.
#pragma once

#include <cstddef>
#include <cstdint>

namespace waitscope::protocols::mysql {

// Every packet starts with a 3-byte little-endian payload length and a 1-byte
// sequence id. A payload of exactly kMaxPacketPayload bytes continues in the
// next packet (multi-packet payloads of 16 MiB and more).
inline constexpr std::size_t kHeaderSize = 4;
inline constexpr std::uint32_t kMaxPacketPayload = 0xFFFFFF;

// Command bytes: first payload byte of a client packet with sequence id 0.
enum class Command : std::uint8_t {
  kSleep = 0x00,
  kQuit = 0x01,
  kInitDb = 0x02,
  kQuery = 0x03,
  kFieldList = 0x04,
  kCreateDb = 0x05,
  kDropDb = 0x06,
  kRefresh = 0x07,
  kShutdown = 0x08,
  kStatistics = 0x09,
  kProcessInfo = 0x0a,
  kConnect = 0x0b,
  kProcessKill = 0x0c,
  kDebug = 0x0d,
  kPing = 0x0e,
  kTime = 0x0f,
  kDelayedInsert = 0x10,
  kChangeUser = 0x11,
  kBinlogDump = 0x12,
  kTableDump = 0x13,
  kConnectOut = 0x14,
  kRegisterSlave = 0x15,
  kStmtPrepare = 0x16,
  kStmtExecute = 0x17,
  kStmtSendLongData = 0x18,
  kStmtClose = 0x19,
  kStmtReset = 0x1a,
  kSetOption = 0x1b,
  kStmtFetch = 0x1c,
  kDaemon = 0x1d,
  kBinlogDumpGtid = 0x1e,
  kResetConnection = 0x1f,
};
inline constexpr std::uint8_t kLastCommand = 0x1f;
// MariaDB's COM_STMT_BULK_EXECUTE (answered like COM_STMT_EXECUTE).
inline constexpr std::uint8_t kMariadbStmtBulkExecute = 0xfa;

// Capability flags (lower 32 bits, negotiated in the handshake).
inline constexpr std::uint32_t kClientConnectWithDb = 1u << 3;
inline constexpr std::uint32_t kClientCompress = 1u << 5;
inline constexpr std::uint32_t kClientProtocol41 = 1u << 9;
inline constexpr std::uint32_t kClientSsl = 1u << 11;
inline constexpr std::uint32_t kClientSecureConnection = 1u << 15;
inline constexpr std::uint32_t kClientMultiStatements = 1u << 16;
inline constexpr std::uint32_t kClientMultiResults = 1u << 17;
inline constexpr std::uint32_t kClientPluginAuth = 1u << 19;
inline constexpr std::uint32_t kClientQueryAttributes = 1u << 27;
inline constexpr std::uint32_t kClientDeprecateEof = 1u << 24;
// MariaDB: bit 0 (CLIENT_LONG_PASSWORD in MySQL) cleared by a MariaDB server
// means "extended MariaDB capabilities follow in the reserved bytes".
inline constexpr std::uint32_t kClientMysql = 1u << 0;
// MariaDB extended capability (bit 36 overall, bit 4 of the upper word):
// result sets may omit column definitions the client has cached.
inline constexpr std::uint32_t kMariadbClientCacheMetadata = 1u << 4;

// Server status flags (OK and EOF packets).
inline constexpr std::uint16_t kServerStatusCursorExists = 0x0040;
inline constexpr std::uint16_t kServerStatusLastRowSent = 0x0080;  // a cursor's last rows
inline constexpr std::uint16_t kServerMoreResultsExist = 0x0008;

// First payload byte of server packets.
inline constexpr std::uint8_t kOkHeader = 0x00;
inline constexpr std::uint8_t kAuthMoreDataHeader = 0x01;
inline constexpr std::uint8_t kLocalInfileHeader = 0xfb;
inline constexpr std::uint8_t kEofHeader = 0xfe;  // also auth switch request
inline constexpr std::uint8_t kErrHeader = 0xff;
inline constexpr std::uint8_t kHandshakeV10 = 0x0a;

// A result set has at most 4096 columns (MySQL's limit); larger counts mean
// we are not looking at a column-count packet.
inline constexpr std::uint64_t kMaxColumns = 4096;

}  // namespace waitscope::protocols::mysql
