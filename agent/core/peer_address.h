// How a server's clients are named in rows: their host with port 0, since
// each connection's ephemeral port would make a row of its own. WithPortZero
// writes that form; AnyPortHost reads it back for people ("127.0.0.1" in a
// sentence, "127.0.0.1:*" in a table). UNIX socket names are left alone.
#pragma once

#include <string>
#include <string_view>

namespace waitscope {

// "10.0.0.5:5432" -> "10.0.0.5:0", "[::1]:80" -> "[::1]:0".
std::string WithPortZero(const std::string& address);

// The host of a WithPortZero address ("10.0.0.5:0" -> "10.0.0.5"); empty for
// any other address.
std::string_view AnyPortHost(std::string_view address);

}  // namespace waitscope
