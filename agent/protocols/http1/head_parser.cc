#include "protocols/http1/head_parser.h"

#include <array>
#include <cstdint>
#include <limits>

#include "protocols/common/ascii.h"

namespace waitscope::protocols::http1 {
namespace {

// RFC 9110 §5.6.2 tchar.
bool IsTchar(char c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
      return true;
    default:
      return false;
  }
}

// Target bytes: anything visible; obs-text (>= 0x80) is tolerated because
// real clients send raw UTF-8, the route templater escapes it.
bool IsTargetByte(char c) {
  auto u = static_cast<unsigned char>(c);
  return u > 0x20 && u != 0x7f;
}

bool IsToken(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!IsTchar(c)) return false;
  }
  return true;
}

// Splits off the next line (without its CRLF/LF). False if no LF.
bool NextLine(std::string_view* data, std::string_view* line) {
  std::size_t nl = data->find('\n');
  if (nl == std::string_view::npos) return false;
  std::string_view l = data->substr(0, nl);
  if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
  *line = l;
  data->remove_prefix(nl + 1);
  return true;
}

std::string_view TrimOws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// "HTTP/1.x" -> minor version, or -1.
int ParseVersion(std::string_view v) {
  if (v.size() != 8 || v.substr(0, 7) != "HTTP/1." || !IsDigit(v[7])) return -1;
  return v[7] - '0';
}

bool ParseRequestLine(std::string_view line, MessageHead* out) {
  std::size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos || sp1 > kMaxMethodBytes) return false;
  std::size_t sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos) return false;
  std::string_view method = line.substr(0, sp1);
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  int minor = ParseVersion(line.substr(sp2 + 1));
  if (!IsToken(method) || target.empty() || minor < 0) return false;
  for (char c : target) {
    if (!IsTargetByte(c)) return false;
  }
  out->method = method;
  out->target = target;
  out->version_minor = minor;
  return true;
}

bool ParseStatusLine(std::string_view line, MessageHead* out) {
  // "HTTP/1.1 200 OK"; the reason phrase may be empty and some servers omit
  // the space before it.
  if (line.size() < 12 || line[8] != ' ') return false;
  int minor = ParseVersion(line.substr(0, 8));
  if (minor < 0 || !IsDigit(line[9]) || !IsDigit(line[10]) || !IsDigit(line[11])) return false;
  if (line.size() > 12 && line[12] != ' ') return false;
  int status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
  if (status < 100) return false;
  out->status = status;
  out->version_minor = minor;
  return true;
}

// Calls fn(element) for each comma-separated, OWS-trimmed, non-empty element.
template <typename Fn>
void ForEachListElement(std::string_view value, Fn fn) {
  while (!value.empty()) {
    std::size_t comma = value.find(',');
    std::string_view elem = TrimOws(value.substr(0, comma));
    if (!elem.empty()) fn(elem);
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
}

// Content-Length: 1*DIGIT, or a list of identical values (RFC 9110 §8.6).
bool ApplyContentLength(std::string_view value, MessageHead* out) {
  bool ok = true;
  bool any = false;
  ForEachListElement(value, [&](std::string_view elem) {
    std::uint64_t n = 0;
    for (char c : elem) {
      if (!IsDigit(c) || n > (std::numeric_limits<std::uint64_t>::max() >> 4)) {
        ok = false;
        return;
      }
      n = n * 10 + static_cast<std::uint64_t>(c - '0');
    }
    any = true;
    if (out->content_length && *out->content_length != n) ok = false;
    out->content_length = n;
  });
  return ok && any;
}

void ApplyTransferEncoding(std::string_view value, MessageHead* out) {
  // Only the final coding decides the framing (RFC 9112 §6.3); several
  // Transfer-Encoding lines form one list.
  ForEachListElement(value, [&](std::string_view elem) {
    std::string_view coding = elem.substr(0, elem.find(';'));
    bool chunked = EqualsIgnoreCase(TrimOws(coding), "chunked");
    out->chunked = chunked;
    out->other_coding = !chunked;
  });
}

void ApplyConnection(std::string_view value, MessageHead* out) {
  ForEachListElement(value, [&](std::string_view elem) {
    if (EqualsIgnoreCase(elem, "close")) out->connection_close = true;
    if (EqualsIgnoreCase(elem, "upgrade")) out->connection_upgrade = true;
  });
}

// Parses the header lines following the start line up to the blank line.
bool ParseFields(std::string_view rest, MessageHead* out) {
  std::string_view line;
  bool last_was_framing = false;
  while (NextLine(&rest, &line)) {
    if (line.empty()) return true;
    if (line.front() == ' ' || line.front() == '\t') {
      if (last_was_framing) return false;  // folded framing header: ambiguous length
      continue;
    }
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) return false;
    std::string_view name = line.substr(0, colon);
    if (!IsToken(name)) return false;
    std::string_view value = TrimOws(line.substr(colon + 1));
    last_was_framing = false;
    if (EqualsIgnoreCase(name, "content-length")) {
      if (!ApplyContentLength(value, out)) return false;
      last_was_framing = true;
    } else if (EqualsIgnoreCase(name, "transfer-encoding")) {
      ApplyTransferEncoding(value, out);
      last_was_framing = true;
    } else if (EqualsIgnoreCase(name, "connection")) {
      ApplyConnection(value, out);
    } else if (EqualsIgnoreCase(name, "upgrade")) {
      out->has_upgrade = true;
    }
  }
  return false;  // no blank line: FindHeadEnd was not honoured
}

constexpr std::array<std::string_view, 20> kKnownMethods = {
    "GET",   "HEAD",   "POST",     "PUT",       "DELETE",     "CONNECT", "OPTIONS",
    "TRACE", "PATCH",  "PROPFIND", "PROPPATCH", "MKCOL",      "COPY",    "MOVE",
    "LOCK",  "UNLOCK", "SEARCH",   "REPORT",    "MKCALENDAR", "PURGE"};

}  // namespace

bool IsKnownMethod(std::string_view token) {
  for (std::string_view m : kKnownMethods) {
    if (m == token) return true;
  }
  return false;
}

bool IsKnownMethodPrefix(std::string_view s) {
  for (std::string_view m : kKnownMethods) {
    if (s.size() < m.size() && m.substr(0, s.size()) == s) return true;
  }
  return false;
}

std::size_t FindHeadEnd(std::string_view data, std::size_t from) {
  std::size_t pos = from > 2 ? from - 2 : 0;
  while (true) {
    std::size_t nl = data.find('\n', pos);
    if (nl == std::string_view::npos) return std::string_view::npos;
    if (nl + 1 < data.size() && data[nl + 1] == '\n') return nl + 2;
    if (nl + 2 < data.size() && data[nl + 1] == '\r' && data[nl + 2] == '\n') return nl + 3;
    pos = nl + 1;
  }
}

ParseStatus CheckStartLine(std::string_view data, bool request) {
  std::string_view rest = data;
  std::string_view line;
  MessageHead scratch;
  if (NextLine(&rest, &line)) {
    bool ok = request ? ParseRequestLine(line, &scratch) : ParseStatusLine(line, &scratch);
    return ok ? ParseStatus::kOk : ParseStatus::kError;
  }
  if (request) {
    std::size_t n = 0;
    for (char c : data) {
      if (c == ' ') return n == 0 ? ParseStatus::kError : ParseStatus::kIncomplete;
      if (!IsTchar(c) || ++n > kMaxMethodBytes) return ParseStatus::kError;
    }
    return ParseStatus::kIncomplete;
  }
  constexpr std::string_view kPrefix = "HTTP/1.";
  std::size_t n = std::min(data.size(), kPrefix.size());
  return data.substr(0, n) == kPrefix.substr(0, n) ? ParseStatus::kIncomplete : ParseStatus::kError;
}

ParseStatus ParseRequestHead(std::string_view head, MessageHead* out) {
  *out = MessageHead{};
  std::string_view line;
  if (!NextLine(&head, &line) || !ParseRequestLine(line, out)) return ParseStatus::kError;
  if (!ParseFields(head, out)) return ParseStatus::kError;
  return ParseStatus::kOk;
}

ParseStatus ParseResponseHead(std::string_view head, MessageHead* out) {
  *out = MessageHead{};
  std::string_view line;
  if (!NextLine(&head, &line) || !ParseStatusLine(line, out)) return ParseStatus::kError;
  if (!ParseFields(head, out)) return ParseStatus::kError;
  return ParseStatus::kOk;
}

}  // namespace waitscope::protocols::http1
