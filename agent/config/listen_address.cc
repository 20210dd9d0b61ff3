#include "config/listen_address.h"

#include <arpa/inet.h>

#include <charconv>

namespace waitscope::config {

Result<ListenAddress> ParseListenAddress(std::string_view text) {
  const std::string shown = "'" + std::string(text) + "'";
  const std::string form = " (expected HOST:PORT such as 127.0.0.1:9464 or [::1]:9464)";
  ListenAddress out;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    const std::size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return Error{shown + " is not a listen address" + form};
    }
    out.host = std::string(text.substr(1, close - 1));
    port = text.substr(close + 2);
    in6_addr v6{};
    if (inet_pton(AF_INET6, out.host.c_str(), &v6) != 1) {
      return Error{shown + ": '" + out.host + "' is not an IPv6 address"};
    }
    out.every_interface = IN6_IS_ADDR_UNSPECIFIED(&v6);
  } else {
    const std::size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return Error{shown + " has no port" + form};
    out.host = std::string(text.substr(0, colon));
    port = text.substr(colon + 1);
    if (out.host.find(':') != std::string::npos) {
      return Error{shown + ": put an IPv6 address in brackets, like [::1]:9464"};
    }
    in_addr v4{};
    if (out.host.empty()) {
      out.every_interface = true;
    } else if (inet_pton(AF_INET, out.host.c_str(), &v4) == 1) {
      out.every_interface = v4.s_addr == htonl(INADDR_ANY);
    } else if (out.host != "localhost") {
      return Error{shown + ": '" + out.host + "' is not an IP address (or localhost)"};
    }
  }
  const std::optional<std::uint16_t> number = ParsePort(port);
  if (!number) return Error{shown + ": the port must be a number from 1 to 65535"};
  out.port = *number;
  return out;
}

std::optional<std::uint16_t> ParsePort(std::string_view text) {
  unsigned value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size() || value == 0 ||
      value > 65535) {
    return std::nullopt;
  }
  return static_cast<std::uint16_t>(value);
}

}  // namespace waitscope::config
