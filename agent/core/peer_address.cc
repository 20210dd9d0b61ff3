#include "core/peer_address.h"

#include "core/unix_address.h"

namespace waitscope {

std::string WithPortZero(const std::string& address) {
  if (IsUnixAddress(address)) return address;  // a path, no port
  const std::size_t colon = address.rfind(':');
  if (colon == std::string::npos) return address;
  return address.substr(0, colon) + ":0";
}

std::string_view AnyPortHost(std::string_view address) {
  if (IsUnixAddress(address) || address.size() <= 2 || !address.ends_with(":0")) return {};
  return address.substr(0, address.size() - 2);
}

}  // namespace waitscope
