#include "core/unix_address.h"

namespace waitscope {

std::string FormatUnixAddress(std::string_view path, bool abstract) {
  if (path.empty() && !abstract) return "unix:(unnamed)";
  return std::string("unix:") + (abstract ? "@" : "") + std::string(path);
}

bool IsUnixAddress(std::string_view address) {
  return address.starts_with("unix:");
}

}  // namespace waitscope
