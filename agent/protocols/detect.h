// Protocol detection: which parser a connection gets. Content first (the
// first bytes each side sends), the well-known port second, so a Redis on
// port 7000 or an HTTP API on 5432 are still recognized.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include "protocols/common/connection_parser.h"
#include "protocols/common/exchange.h"

namespace waitscope::protocols {

struct Detection {
  Protocol protocol = Protocol::kUnknown;
  bool decided = false;  // false: need more bytes (nothing seen from one side yet)
};

// first_request: the first bytes the client sent (empty if none yet);
// first_response: the first bytes the server sent (MySQL speaks first);
// server_port: the port of the server side of the connection.
Detection DetectProtocol(std::string_view first_request, std::string_view first_response,
                         std::uint16_t server_port);

std::unique_ptr<ConnectionParser> MakeParser(Protocol protocol, const ParserOptions& options);

// "postgres", "mysql", "redis", "http", "unknown": the report's names.
std::string_view ProtocolName(Protocol protocol);

// True for protocols whose request/response time counts as database wait.
bool IsDatabase(Protocol protocol);

}  // namespace waitscope::protocols
