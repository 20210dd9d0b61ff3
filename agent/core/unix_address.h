// How waitscope names a UNIX socket, in wait targets and in connections:
// "unix:/path", "unix:@name" for an abstract name, "unix:(unnamed)" when
// neither side is bound (socketpair). The report contract's address fields
// are "ip:port", so rows with such a peer are reported apart (see
// report_json.cc).
#pragma once

#include <string>
#include <string_view>

namespace waitscope {

std::string FormatUnixAddress(std::string_view path, bool abstract);

bool IsUnixAddress(std::string_view address);

}  // namespace waitscope
