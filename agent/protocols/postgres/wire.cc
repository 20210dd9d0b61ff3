#include "protocols/postgres/wire.h"

#include "protocols/common/binary_reader.h"
#include "protocols/postgres/types.h"

namespace waitscope::protocols::postgres {

std::optional<MessageHeader> ReadHeader(std::string_view data) {
  BinaryReader r(data);
  auto type = r.U8();
  auto length = r.U32Be();
  if (!type || !length) return std::nullopt;
  return MessageHeader{static_cast<char>(*type), *length};
}

bool IsKnownType(Direction dir, char type) {
  namespace fe = frontend;
  namespace be = backend;
  switch (dir) {
    case Direction::kRequest:
      switch (type) {
        case fe::kQuery:
        case fe::kParse:
        case fe::kBind:
        case fe::kDescribe:
        case fe::kExecute:
        case fe::kSync:
        case fe::kClose:
        case fe::kFlush:
        case fe::kTerminate:
        case fe::kCopyData:
        case fe::kCopyDone:
        case fe::kCopyFail:
        case fe::kFunctionCall:
        case fe::kPassword:
          return true;
        default:
          return false;
      }
    case Direction::kResponse:
      switch (type) {
        case be::kAuthentication:
        case be::kParameterStatus:
        case be::kBackendKeyData:
        case be::kReadyForQuery:
        case be::kRowDescription:
        case be::kDataRow:
        case be::kCommandComplete:
        case be::kErrorResponse:
        case be::kNoticeResponse:
        case be::kNotification:
        case be::kEmptyQueryResponse:
        case be::kParseComplete:
        case be::kBindComplete:
        case be::kCloseComplete:
        case be::kNoData:
        case be::kParameterDescription:
        case be::kPortalSuspended:
        case be::kCopyInResponse:
        case be::kCopyOutResponse:
        case be::kCopyBothResponse:
        case be::kCopyData:
        case be::kCopyDone:
        case be::kFunctionCallResponse:
        case be::kNegotiateProtocolVersion:
          return true;
        default:
          return false;
      }
  }
  return false;
}

bool PlausibleLength(Direction dir, char type, std::uint32_t length, std::uint32_t max_length) {
  if (length < 4 || length > max_length) return false;
  if (dir == Direction::kRequest) {
    switch (type) {
      case frontend::kSync:
      case frontend::kFlush:
      case frontend::kTerminate:
      case frontend::kCopyDone:
        return length == 4;
      case frontend::kQuery:
      case frontend::kParse:
      case frontend::kBind:
      case frontend::kDescribe:
      case frontend::kExecute:
      case frontend::kClose:
        return length >= 5;  // at least one NUL-terminated string
      default:
        return true;
    }
  }
  switch (type) {
    case backend::kParseComplete:
    case backend::kBindComplete:
    case backend::kCloseComplete:
    case backend::kNoData:
    case backend::kEmptyQueryResponse:
    case backend::kPortalSuspended:
    case backend::kCopyDone:
      return length == 4;
    case backend::kReadyForQuery:
      return length == 5;
    case backend::kAuthentication:
      return length >= 8;
    case backend::kBackendKeyData:
      return length >= 12 && length <= 4 + 4 + 256;  // protocol 3.2 allows longer keys
    case backend::kCommandComplete:
    case backend::kErrorResponse:
    case backend::kNoticeResponse:
      return length >= 5;
    default:
      return true;
  }
}

std::int64_t RowsFromCommandTag(std::string_view tag) {
  static constexpr std::string_view kCounted[] = {"SELECT ", "INSERT ", "UPDATE ", "DELETE ",
                                                  "MERGE ",  "FETCH ",  "MOVE ",   "COPY "};
  bool counted = false;
  for (std::string_view p : kCounted) counted = counted || tag.substr(0, p.size()) == p;
  if (!counted) return -1;
  std::size_t sp = tag.rfind(' ');
  std::string_view num = tag.substr(sp + 1);
  if (num.empty() || num.size() > 18) return -1;
  std::int64_t v = 0;
  for (char c : num) {
    if (c < '0' || c > '9') return -1;
    v = v * 10 + (c - '0');
  }
  return v;
}

std::string SqlstateFromErrorFields(std::string_view body) {
  // Fields: a type byte, then a C string; a zero type byte ends the list.
  BinaryReader r(body);
  while (auto field = r.U8()) {
    if (*field == 0) break;
    auto value = r.CString();
    if (!value) break;
    if (*field == 'C') return std::string(value->substr(0, 5));
  }
  return {};
}

StartupPacket ClassifyStartupPacket(std::uint32_t length, std::uint32_t code) {
  if (length == 8 && code == kSslRequestCode) return StartupPacket::kSslRequest;
  if (length == 8 && code == kGssEncRequestCode) return StartupPacket::kGssEncRequest;
  if (length == 16 && code == kCancelRequestCode) return StartupPacket::kCancel;
  // Parameters end with an extra NUL, so a real StartupMessage has > 8 bytes.
  if ((code >> 16) == kProtocolMajor3 && length > 8 && length <= kMaxStartupLength)
    return StartupPacket::kStartup;
  return StartupPacket::kInvalid;
}

}  // namespace waitscope::protocols::postgres
