// A listening TCP socket for one of the agent's servers. The address comes
// already validated from the configuration (config/listen_address.h parses
// "HOST:PORT" and refuses public addresses unless allowed); this only
// resolves and binds it. Errors are one line naming the address as
// HOST:PORT ("[::1]:9464" for IPv6):
// "cannot listen on 127.0.0.1:9464: Address already in use".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"
#include "symbols/unique_fd.h"

namespace waitscope::metrics {

struct ListeningSocket {
  UniqueFd fd;             // non-blocking, close-on-exec, listening
  std::uint16_t port = 0;  // the bound port (the kernel's choice when 0 was asked)
};

// `host`: an IP literal without brackets, "localhost", or "" for every
// interface; `port` 0 asks the kernel for a free one. Binds the first
// resolved address that works.
Result<ListeningSocket> ListenTcp(const std::string& host, std::uint16_t port, int backlog);

// "127.0.0.1:9464", "[::1]:9464", ":9464".
std::string FormatHostPort(std::string_view host, std::uint16_t port);

}  // namespace waitscope::metrics
