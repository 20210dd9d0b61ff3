// ListenAddress: the HOST:PORT a server of the agent (the Prometheus
// endpoint) binds to. Parsing also tells whether the address listens on every
// interface, which the config refuses unless asked for explicitly: metrics
// name processes, SQL statements and endpoints, and must not leak by default.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"

namespace waitscope::config {

struct ListenAddress {
  std::string host;  // IPv4 or IPv6 literal (no brackets), or "localhost"; "" = every interface
  std::uint16_t port = 0;
  bool every_interface = false;  // "", 0.0.0.0, :: (and [::])
};

// Accepts "127.0.0.1:9464", "[::1]:9464", "localhost:9464", "0.0.0.0:9464",
// "[::]:9464" and ":9464". Host names other than localhost are refused (the
// agent binds before DNS may be up); the port must be 1-65535.
Result<ListenAddress> ParseListenAddress(std::string_view text);

// A TCP port: digits only, 1 to 65535 (listen addresses and endpoint URLs).
std::optional<std::uint16_t> ParsePort(std::string_view text);

}  // namespace waitscope::config
