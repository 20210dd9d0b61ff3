#include "protocols/detect.h"

#include "protocols/http1/parser.h"
#include "protocols/mysql/parser.h"
#include "protocols/postgres/parser.h"
#include "protocols/redis/parser.h"

namespace waitscope::protocols {

Detection DetectProtocol(std::string_view first_request, std::string_view first_response,
                         std::uint16_t server_port) {
  if (!first_request.empty()) {
    if (LooksLikePostgres(first_request)) return {Protocol::kPostgres, true};
    if (LooksLikeHttp1Request(first_request)) return {Protocol::kHttp1, true};
    if (LooksLikeRedis(first_request)) return {Protocol::kRedis, true};
  }
  if (!first_response.empty() && LooksLikeMysql(first_response)) return {Protocol::kMysql, true};
  // Content said nothing: fall back on the port once both sides have spoken
  // (or the one that speaks first has), so a slow first packet is not
  // misjudged.
  const bool enough = !first_request.empty() || !first_response.empty();
  if (!enough) return {Protocol::kUnknown, false};
  switch (server_port) {
    case 5432:
      return {Protocol::kPostgres, true};
    case 3306:
      return {Protocol::kMysql, true};
    case 6379:
      return {Protocol::kRedis, true};
    default:
      break;
  }
  return {Protocol::kUnknown, true};
}

std::unique_ptr<ConnectionParser> MakeParser(Protocol protocol, const ParserOptions& options) {
  switch (protocol) {
    case Protocol::kPostgres:
      return MakePostgresParser(options);
    case Protocol::kMysql:
      return MakeMysqlParser(options);
    case Protocol::kRedis:
      return MakeRedisParser(options);
    case Protocol::kHttp1:
      return MakeHttp1Parser(options);
    case Protocol::kUnknown:
      break;
  }
  return nullptr;
}

std::string_view ProtocolName(Protocol protocol) {
  switch (protocol) {
    case Protocol::kPostgres:
      return "postgres";
    case Protocol::kMysql:
      return "mysql";
    case Protocol::kRedis:
      return "redis";
    case Protocol::kHttp1:
      return "http";
    case Protocol::kUnknown:
      break;
  }
  return "unknown";
}

bool IsDatabase(Protocol protocol) {
  return protocol == Protocol::kPostgres || protocol == Protocol::kMysql ||
         protocol == Protocol::kRedis;
}

}  // namespace waitscope::protocols
