#include "protocols/http1/route.h"

#include "protocols/common/ascii.h"
#include "protocols/http1/types.h"

namespace waitscope::protocols::http1 {
namespace {

// Appends `s`, escaping bytes outside printable ASCII; stops at the cap.
// Returns false when the cap was hit.
bool AppendEscaped(std::string* out, std::string_view s) {
  static constexpr char kHexDigits[] = "0123456789ABCDEF";
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    std::size_t need = (u > 0x20 && u < 0x7f) ? 1 : 3;
    if (out->size() + need > kMaxRouteBytes) return false;
    if (need == 1) {
      out->push_back(c);
    } else {
      out->push_back('%');
      out->push_back(kHexDigits[u >> 4]);
      out->push_back(kHexDigits[u & 0xf]);
    }
  }
  return true;
}

std::string_view StripScheme(std::string_view target) {
  // absolute-form (requests to a proxy): scheme "://" authority path.
  std::size_t scheme_end = target.find("://");
  if (scheme_end == std::string_view::npos || target.front() == '/') return target;
  std::string_view after = target.substr(scheme_end + 3);
  std::size_t path = after.find_first_of("/?#");
  if (path == std::string_view::npos) return "/";
  if (after[path] != '/') return "/";
  return after.substr(path);
}

}  // namespace

std::string TemplateRoute(std::string_view target) {
  if (target.empty()) return "/";
  if (target == "*") return "*";
  std::string_view path = StripScheme(target);
  path = path.substr(0, path.find_first_of("?#"));
  if (path.empty()) return "/";

  std::string out;
  out.reserve(path.size() < kMaxRouteBytes ? path.size() : kMaxRouteBytes);
  bool first = true;
  while (true) {
    std::size_t slash = path.find('/');
    std::string_view seg = path.substr(0, slash);
    if (!first && !AppendEscaped(&out, "/")) return out + "...";
    first = false;
    std::string_view templ = seg;
    if (AllDigits(seg)) {
      templ = "{id}";
    } else if (IsUuid(seg)) {
      templ = "{uuid}";
    } else if (seg.size() >= 16 && AllHex(seg)) {
      templ = "{hex}";
    }
    if (!AppendEscaped(&out, templ)) return out + "...";
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

std::string RawTarget(std::string_view target) {
  std::string out;
  if (!AppendEscaped(&out, target)) out += "...";
  return out;
}

}  // namespace waitscope::protocols::http1
