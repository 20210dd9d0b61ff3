#include "config/otel_values.h"

#include <utility>

#include "config/listen_address.h"

namespace waitscope::config {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Offset of the path in an http(s) URL (its end when there is none).
std::size_t PathStart(std::string_view url) {
  const std::size_t scheme_end = url.find("://");
  const std::size_t authority = scheme_end == std::string_view::npos ? 0 : scheme_end + 3;
  const std::size_t path = url.find_first_of("/?#", authority);
  return path == std::string_view::npos ? url.size() : path;
}

}  // namespace

Result<std::string> PercentDecode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    const int hi = i + 2 < text.size() ? HexDigit(text[i + 1]) : -1;
    const int lo = i + 2 < text.size() ? HexDigit(text[i + 2]) : -1;
    if (hi < 0 || lo < 0) {
      return Error{"'%' must start a percent escape like %20 in '" + std::string(text) + "'"};
    }
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

Result<std::map<std::string, std::string>> ParseOtelKeyValueList(std::string_view text) {
  std::map<std::string, std::string> out;
  while (!text.empty()) {
    const std::size_t comma = text.find(',');
    std::string_view member = Trim(text.substr(0, comma));
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    if (member.empty()) continue;
    const std::size_t eq = member.find('=');
    if (eq == std::string_view::npos) {
      return Error{"'" + std::string(member) + "' is not key=value"};
    }
    std::string_view key = Trim(member.substr(0, eq));
    if (key.empty()) return Error{"'" + std::string(member) + "' has an empty key"};
    Result<std::string> key_text = PercentDecode(key);
    if (!key_text) return key_text.error();
    Result<std::string> value = PercentDecode(Trim(member.substr(eq + 1)));
    if (!value) return value.error();
    out[std::move(*key_text)] = std::move(*value);
  }
  return out;
}

std::string HttpHeaderNameProblem(std::string_view name) {
  if (name.empty()) return "a header name is empty";
  constexpr std::string_view kTokenSymbols = "!#$%&'*+-.^_`|~";
  for (char c : name) {
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!alnum && kTokenSymbols.find(c) == std::string_view::npos) {
      return "'" + std::string(name) +
             "' is not an HTTP header name (letters, digits and !#$%&'*+-.^_`|~ only)";
    }
  }
  return {};
}

std::string HttpHeaderValueProblem(std::string_view value) {
  for (char c : value) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || u == 0x7f) {
      return "the value holds a control character (such as a line break), which no HTTP "
             "header value may hold";
    }
  }
  return {};
}

Result<std::map<std::string, std::string>> ParseHttpHeaderList(std::string_view text) {
  Result<std::map<std::string, std::string>> headers = ParseOtelKeyValueList(text);
  // ParseOtelKeyValueList's errors quote the entry, value included.
  if (!headers) return Error{"not a list of name=value pairs with percent-encoded values"};
  for (const auto& [name, value] : *headers) {
    if (std::string why = HttpHeaderNameProblem(name); !why.empty()) return Error{why};
    if (std::string why = HttpHeaderValueProblem(value); !why.empty()) {
      return Error{"header '" + name + "': " + std::move(why)};
    }
  }
  return headers;
}

Status CheckHttpUrl(std::string_view url) {
  const std::string shown = "'" + std::string(url) + "'";
  std::size_t host_start = 0;
  if (url.substr(0, 7) == "http://") {
    host_start = 7;
  } else if (url.substr(0, 8) == "https://") {
    host_start = 8;
  } else {
    return Error{shown + " must start with http:// or https://"};
  }
  const std::size_t host_end = PathStart(url);
  std::string_view authority = url.substr(host_start, host_end - host_start);
  if (authority.empty() || authority.front() == ':') return Error{shown + " has no host"};
  if (authority.find_first_of(" \t") != std::string_view::npos) {
    return Error{shown + " has a blank in its host"};
  }
  if (const std::size_t at = authority.rfind('@'); at != std::string_view::npos) {
    authority.remove_prefix(at + 1);  // user:password@
  }
  // The port follows the last ':' outside an IPv6 literal's brackets.
  const std::size_t bracket = authority.front() == '[' ? authority.find(']') : 0;
  if (bracket == std::string_view::npos) return Error{shown + " has an unclosed '[' in its host"};
  const std::size_t colon = authority.find(':', bracket);
  if (colon == std::string_view::npos) return Status::Ok();
  const std::string_view port = authority.substr(colon + 1);
  if (!ParsePort(port)) {
    return Error{shown + " has no valid port ('" + std::string(port) + "': expected 1 to 65535)"};
  }
  return Status::Ok();
}

std::string SignalEndpointUrl(std::string_view url) {
  std::string out(url);
  if (PathStart(url) == url.size()) out += '/';
  return out;
}

std::string BaseEndpointUrl(std::string_view base, std::string_view signal_path) {
  const std::size_t path = PathStart(base);
  const std::size_t end = base.find_first_of("?#", path);
  std::string out(base.substr(0, end));
  if (out.empty() || out.back() != '/') out += '/';
  out += signal_path;
  return out;
}

}  // namespace waitscope::config
