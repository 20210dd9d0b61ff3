#include "protocols/redis/resp_decoder.h"

#include <algorithm>
#include <cstdint>
#include <string_view>

#include "protocols/common/ascii.h"
#include "protocols/common/binary_reader.h"

namespace waitscope::protocols::redis {
namespace {

using S = DecodeStatus;

// What an incomplete decode still needs: the total input length that would
// let it progress, and where the unfinished bulk payload ends (see
// DecodeResult::payload_end; 0 when the decode did not stop in a payload).
struct Need {
  std::size_t total = 0;
  std::size_t payload_end = 0;
};

// Redis rejects bulk strings above proto-max-bulk-len (512 MiB by default)
// and multibulk requests above 1M arguments; anything larger is not Redis.
constexpr std::int64_t kMaxBulkBytes = 512LL * 1024 * 1024;
constexpr std::int64_t kMaxRequestArgs = 1024 * 1024;
constexpr std::int64_t kMaxAggregate = std::int64_t{1} << 31;
// Smallest encodings of one element ("_\r\n"; "$0\r\n\r\n"), used to know
// early that a declared count cannot be complete yet.
constexpr std::size_t kMinReplyElement = 3;
constexpr std::size_t kMinRequestArg = 6;

// The fewest bytes `count` more elements of at least `min` bytes each take:
// added to a need when an aggregate's element is incomplete, so the next
// attempt waits until the rest can fit.
std::size_t RestMinimum(std::int64_t count, std::size_t min) {
  return count > 0 ? static_cast<std::size_t>(count) * min : 0;
}

// Reads a RESP integer from the start of `s`: optional '-', then 1..18
// digits (no overflow possible). Returns the bytes it took, 0 if none.
// Inlined into ReadInt's fast path (see there).
[[gnu::always_inline]] inline std::size_t ScanInt(std::string_view s, std::int64_t* out) {
  const bool neg = !s.empty() && s[0] == '-';
  const std::size_t first = neg ? 1 : 0;
  const std::size_t end = std::min(s.size(), first + 18);
  std::size_t i = first;
  std::int64_t v = 0;
  for (; i < end && IsDigit(s[i]); ++i) v = v * 10 + (s[i] - '0');
  if (i == first) return 0;
  *out = neg ? -v : v;
  return i;
}

// Whether `s` has "\r\n" at `i` (ends of integer lines and of payloads).
bool CrlfAt(std::string_view s, std::size_t i) {
  return i + 2 <= s.size() && s[i] == '\r' && s[i + 1] == '\n';
}

// Strict RESP integer: all of `s` is one (see ScanInt).
bool ParseInt(std::string_view s, std::int64_t* out) {
  std::int64_t v = 0;
  if (s.empty() || ScanInt(s, &v) != s.size()) return false;
  *out = v;
  return true;
}

// Reads a CRLF-terminated line. RESP lines never contain CR or LF, so a bare
// one is invalid rather than "part of the line". One pass over the bytes:
// lines are short (counts, lengths, status words), so a plain loop beats two
// memchr calls, which dominated the decoder's profile.
S ReadLine(BinaryReader& r, std::string_view* line, Need* need) {
  std::string_view rest = r.rest();
  const std::size_t limit = std::min(rest.size(), kMaxLineBytes + 2);
  std::size_t cr = 0;
  while (cr < limit && rest[cr] != '\r') {
    if (rest[cr] == '\n') return S::kInvalid;
    ++cr;
  }
  if (cr == limit) {
    if (rest.size() > kMaxLineBytes) return S::kInvalid;
    need->total = r.position() + rest.size() + 1;
    return S::kNeedMore;
  }
  if (cr > kMaxLineBytes) return S::kInvalid;
  if (cr + 1 >= rest.size()) {
    need->total = r.position() + cr + 2;
    return S::kNeedMore;
  }
  if (rest[cr + 1] != '\n') return S::kInvalid;
  *line = r.Bytes(cr).value_or(std::string_view());
  r.Skip(2);
  return S::kOk;
}

// ReadInt's strict path: the integer's line, then the whole line an integer.
S ReadIntLine(BinaryReader& r, std::int64_t* v, Need* need) {
  std::string_view line;
  S st = ReadLine(r, &line, need);
  if (st != S::kOk) return st;
  return ParseInt(line, v) ? S::kOk : S::kInvalid;
}

// Nearly every count and length is a few digits and a CRLF already in the
// buffer: those are read in one pass, inlined into the callers (two per
// request argument; as calls, their entries and exits were an eighth of the
// agent's Redis path). Anything else (a line cut short, a stray byte, too
// many digits) takes the strict path, so the result is the same either way.
[[gnu::always_inline]] inline S ReadInt(BinaryReader& r, std::int64_t* v, Need* need) {
  const std::string_view rest = r.rest();
  std::int64_t value = 0;
  const std::size_t n = ScanInt(rest, &value);
  if (n > 0 && CrlfAt(rest, n)) {
    r.Skip(n + 2);
    *v = value;
    return S::kOk;
  }
  return ReadIntLine(r, v, need);
}

// Payload of `len` bytes followed by CRLF. Always inlined: called, it
// stored *payload as two words that the caller then loaded as one 16-byte
// value (appending it to the argument list), a load store forwarding cannot
// serve; that stall was 40 % of DecodeRequest.
[[gnu::always_inline]] inline S ReadPayload(BinaryReader& r, std::int64_t len,
                                            std::string_view* payload, Need* need) {
  auto n = static_cast<std::size_t>(len);
  if (r.remaining() < n + 2) {
    need->total = r.position() + n + 2;
    need->payload_end = r.position() + n;
    return S::kNeedMore;
  }
  *payload = r.Bytes(n).value_or(std::string_view());
  const bool crlf = CrlfAt(r.rest(), 0);
  r.Skip(2);
  return crlf ? S::kOk : S::kInvalid;
}

bool ValidDouble(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!IsDigit(c) && std::string_view("+-.eEinfa").find(c) == std::string_view::npos)
      return false;
  }
  return true;
}

bool ValidBignum(std::string_view s) {
  if (!s.empty() && s[0] == '-') s.remove_prefix(1);
  if (s.empty()) return false;
  for (char c : s) {
    if (!IsDigit(c)) return false;
  }
  return true;
}

S DecodeValue(BinaryReader& r, int depth, ValueSummary* s, std::vector<ValueSummary>* children,
              Need* need) {
  if (depth > kMaxDepth) return S::kInvalid;
  for (;;) {
    auto t = r.U8();
    if (!t) {
      need->total = r.position() + 1;
      return S::kNeedMore;
    }
    const char type = static_cast<char>(*t);
    std::string_view line;
    std::int64_t n = 0;
    S st = S::kOk;
    if (type == '|') {
      // Attribute: metadata about the value that follows; skip it and decode
      // that value in its place.
      if ((st = ReadInt(r, &n, need)) != S::kOk) return st;
      if (n < 0 || n > kMaxAggregate) return S::kInvalid;
      for (std::int64_t i = 0; i < 2 * n; ++i) {
        ValueSummary ignored;
        if ((st = DecodeValue(r, depth + 1, &ignored, nullptr, need)) != S::kOk) return st;
      }
      continue;
    }
    s->type = type;
    switch (type) {
      case '+':
      case '-':
        if ((st = ReadLine(r, &line, need)) != S::kOk) return st;
        s->text = line;
        s->is_error = type == '-';
        return S::kOk;
      case ':':
        if ((st = ReadLine(r, &line, need)) != S::kOk) return st;
        s->text = line;
        return ParseInt(line, &n) ? S::kOk : S::kInvalid;
      case '(':
        if ((st = ReadLine(r, &line, need)) != S::kOk) return st;
        s->text = line;
        return ValidBignum(line) ? S::kOk : S::kInvalid;
      case ',':
        if ((st = ReadLine(r, &line, need)) != S::kOk) return st;
        s->text = line;
        return ValidDouble(line) ? S::kOk : S::kInvalid;
      case '#':
        if ((st = ReadLine(r, &line, need)) != S::kOk) return st;
        s->text = line;
        return line == "t" || line == "f" ? S::kOk : S::kInvalid;
      case '_':
        if ((st = ReadLine(r, &line, need)) != S::kOk) return st;
        s->is_null = true;
        return line.empty() ? S::kOk : S::kInvalid;
      case '$':
      case '!':
      case '=': {
        if ((st = ReadInt(r, &n, need)) != S::kOk) return st;
        if (type == '$' && n == -1) {  // RESP2 null bulk string
          s->is_null = true;
          return S::kOk;
        }
        if (n < 0 || n > kMaxBulkBytes) return S::kInvalid;
        if ((st = ReadPayload(r, n, &s->text, need)) != S::kOk) return st;
        s->is_error = type == '!';
        // Verbatim strings start with a 3-byte format and ':' ("txt:").
        if (type == '=' && (s->text.size() < 4 || s->text[3] != ':')) return S::kInvalid;
        return S::kOk;
      }
      case '*':
      case '~':
      case '>':
      case '%': {
        if ((st = ReadInt(r, &n, need)) != S::kOk) return st;
        if (type == '*' && n == -1) {  // RESP2 null array
          s->is_null = true;
          return S::kOk;
        }
        if (n < 0 || n > kMaxAggregate) return S::kInvalid;
        s->elements = n;
        const std::int64_t items = type == '%' ? 2 * n : n;
        if (r.remaining() < static_cast<std::size_t>(items) * kMinReplyElement) {
          need->total = r.position() + static_cast<std::size_t>(items) * kMinReplyElement;
          return S::kNeedMore;
        }
        for (std::int64_t i = 0; i < items; ++i) {
          ValueSummary child;
          if ((st = DecodeValue(r, depth + 1, &child, nullptr, need)) != S::kOk) {
            // The elements after this one need their minimum too: without it
            // a reply arriving a few bytes at a time was decoded again from
            // its first byte on every piece (quadratic in its size).
            if (st == S::kNeedMore) need->total += RestMinimum(items - i - 1, kMinReplyElement);
            return st;
          }
          if (child.is_null) {
            ++s->child_nulls;
          } else {
            ++s->child_values;
          }
          if (children != nullptr && children->size() < kMaxReplyChildren) {
            children->push_back(child);
          }
        }
        return S::kOk;
      }
      default:
        return S::kInvalid;
    }
  }
}

DecodeResult Finish(S st, const BinaryReader& r, const Need& need) {
  DecodeResult res;
  res.status = st;
  if (st == S::kOk) res.consumed = r.position();
  if (st == S::kNeedMore) {
    res.need_total = need.total;
    res.payload_end = need.payload_end;
  }
  return res;
}

DecodeResult DecodeMultibulk(std::string_view in, RequestFrame* out) {
  BinaryReader r(in);
  Need need;
  std::int64_t count = 0;
  r.Skip(1);  // '*'
  S st = ReadInt(r, &count, &need);
  if (st != S::kOk) return Finish(st, r, need);
  if (count <= 0) {  // Redis ignores empty and null multibulks without replying
    out->no_reply = true;
    return Finish(S::kOk, r, need);
  }
  if (count > kMaxRequestArgs) return Finish(S::kInvalid, r, need);
  const std::size_t min_rest = static_cast<std::size_t>(count) * kMinRequestArg;
  if (r.remaining() < min_rest) return Finish(S::kNeedMore, r, Need{r.position() + min_rest, 0});
  for (std::int64_t i = 0; i < count; ++i) {
    auto t = r.U8();
    if (!t) {
      return Finish(
          S::kNeedMore, r,
          Need{r.position() + kMinRequestArg + RestMinimum(count - i - 1, kMinRequestArg), 0});
    }
    if (*t != '$') return Finish(S::kInvalid, r, need);
    std::int64_t len = 0;
    if ((st = ReadInt(r, &len, &need)) != S::kOk) {
      if (st == S::kNeedMore) need.total += RestMinimum(count - i - 1, kMinRequestArg);
      return Finish(st, r, need);
    }
    if (len < 0 || len > kMaxBulkBytes) return Finish(S::kInvalid, r, need);
    std::string_view arg;
    if ((st = ReadPayload(r, len, &arg, &need)) != S::kOk) {
      // As for replies: the arguments after this one need their minimum.
      if (st == S::kNeedMore) need.total += RestMinimum(count - i - 1, kMinRequestArg);
      return Finish(st, r, need);
    }
    out->args.push_back(arg);
  }
  return Finish(S::kOk, r, need);
}

DecodeResult DecodeInline(std::string_view in, RequestFrame* out) {
  DecodeResult res;
  res.status = S::kInvalid;
  // Inline commands are typed text starting with the command name; control
  // bytes mean we are not looking at a command (or are inside a binary
  // value). Checked on the prefix already here, so junk fails fast instead of
  // waiting for a newline.
  const char first = in[0];
  if (!((first >= 'a' && first <= 'z') || (first >= 'A' && first <= 'Z') || first == ' ' ||
        first == '\t' || first == '\r' || first == '\n')) {
    return res;
  }
  std::size_t lf = in.substr(0, kMaxLineBytes + 1).find('\n');
  std::string_view line = in.substr(0, lf == std::string_view::npos ? kMaxLineBytes + 1 : lf);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  for (char c : line) {
    auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t' && c != '\r') || u == 0x7f) return res;
  }
  if (lf == std::string_view::npos) {
    if (in.size() > kMaxLineBytes) return res;
    res.status = S::kNeedMore;
    res.need_total = in.size() + 1;
    return res;
  }
  if (line.find('\r') != std::string_view::npos) return res;
  std::size_t pos = 0;
  while (pos < line.size()) {
    std::size_t start = line.find_first_not_of(" \t", pos);
    if (start == std::string_view::npos) break;
    std::size_t end = line.find_first_of(" \t", start);
    if (end == std::string_view::npos) end = line.size();
    out->args.push_back(line.substr(start, end - start));
    pos = end;
  }
  if (out->args.empty()) {
    out->no_reply = true;  // Redis skips blank lines
  } else {
    char c = out->args[0][0];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) {
      res.status = S::kInvalid;
      return res;
    }
  }
  res.status = S::kOk;
  res.consumed = lf + 1;
  return res;
}

}  // namespace

DecodeResult DecodeRequest(std::string_view in, RequestFrame* out) {
  out->args.clear();
  out->no_reply = false;
  if (in.empty()) return DecodeResult{S::kNeedMore, 0, 1};
  return in[0] == '*' ? DecodeMultibulk(in, out) : DecodeInline(in, out);
}

DecodeResult DecodeReply(std::string_view in, ReplyFrame* out) {
  out->value = ValueSummary();
  out->children.clear();
  BinaryReader r(in);
  Need need;
  S st = DecodeValue(r, 0, &out->value, &out->children, &need);
  return Finish(st, r, need);
}

bool IsRequestStart(std::string_view in) {
  return !in.empty() && in[0] == '*' && (in.size() < 2 || IsDigit(in[1]) || in[1] == '-');
}

bool IsReplyStart(std::string_view in) {
  return !in.empty() && std::string_view("+-:$*_#,(=%~|>!").find(in[0]) != std::string_view::npos;
}

}  // namespace waitscope::protocols::redis
