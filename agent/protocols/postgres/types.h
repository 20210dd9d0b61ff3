// PostgreSQL frontend/backend protocol v3 constants: message type bytes of
// each direction and the codes of the untyped startup-phase packets.
// Reference: https://www.postgresql.org/docs/15/protocol-message-formats.html
#pragma once

#include <cstdint>

namespace waitscope::protocols::postgres {

// Typed messages: 1 type byte, int32 length (counting itself, not the type
// byte), body.
namespace frontend {
inline constexpr char kQuery = 'Q';
inline constexpr char kParse = 'P';
inline constexpr char kBind = 'B';
inline constexpr char kDescribe = 'D';
inline constexpr char kExecute = 'E';
inline constexpr char kSync = 'S';
inline constexpr char kClose = 'C';
inline constexpr char kFlush = 'H';
inline constexpr char kTerminate = 'X';
inline constexpr char kCopyData = 'd';
inline constexpr char kCopyDone = 'c';
inline constexpr char kCopyFail = 'f';
inline constexpr char kFunctionCall = 'F';
inline constexpr char kPassword = 'p';  // also SASL and GSS responses
}  // namespace frontend

namespace backend {
inline constexpr char kAuthentication = 'R';
inline constexpr char kParameterStatus = 'S';
inline constexpr char kBackendKeyData = 'K';
inline constexpr char kReadyForQuery = 'Z';
inline constexpr char kRowDescription = 'T';
inline constexpr char kDataRow = 'D';
inline constexpr char kCommandComplete = 'C';
inline constexpr char kErrorResponse = 'E';
inline constexpr char kNoticeResponse = 'N';
inline constexpr char kNotification = 'A';
inline constexpr char kEmptyQueryResponse = 'I';
inline constexpr char kParseComplete = '1';
inline constexpr char kBindComplete = '2';
inline constexpr char kCloseComplete = '3';
inline constexpr char kNoData = 'n';
inline constexpr char kParameterDescription = 't';
inline constexpr char kPortalSuspended = 's';
inline constexpr char kCopyInResponse = 'G';
inline constexpr char kCopyOutResponse = 'H';
inline constexpr char kCopyBothResponse = 'W';
inline constexpr char kCopyData = 'd';
inline constexpr char kCopyDone = 'c';
inline constexpr char kFunctionCallResponse = 'V';
inline constexpr char kNegotiateProtocolVersion = 'v';
}  // namespace backend

// Untyped startup-phase packets (int32 length, int32 code, body).
inline constexpr std::uint32_t kProtocolMajor3 = 3;  // StartupMessage code = major << 16 | minor
inline constexpr std::uint32_t kCancelRequestCode = 80877102;  // length 16
inline constexpr std::uint32_t kSslRequestCode = 80877103;     // length 8, reply 'S' or 'N'
inline constexpr std::uint32_t kGssEncRequestCode = 80877104;  // length 8, reply 'G' or 'N'
// libpq sends a few hundred bytes; the server rejects startup packets > 10000.
inline constexpr std::uint32_t kMaxStartupLength = 10000;

// Single-byte replies to SSLRequest / GSSENCRequest.
inline constexpr char kTlsAccepted = 'S';
inline constexpr char kGssAccepted = 'G';
inline constexpr char kEncryptionRefused = 'N';

}  // namespace waitscope::protocols::postgres
