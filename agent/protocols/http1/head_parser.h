// Parsing of HTTP/1.x message heads (RFC 9112 §2-§5): request line, status
// line and header fields, reduced to the framing facts in MessageHead.
//
// Contract: pure functions over a byte view, never read past it, never
// allocate. Lines end in CRLF or a bare LF (RFC 9112 §2.2 lets recipients
// accept LF). Header names are matched case-insensitively. obs-fold
// (a line starting with SP/HTAB) is tolerated and ignored, except after a
// framing header (Content-Length / Transfer-Encoding), where the folded value
// would make the message length ambiguous: that is an error. Whitespace
// between a field name and its colon is an error (RFC 9112 §5.1).
#pragma once

#include <cstddef>
#include <string_view>

#include "protocols/http1/types.h"

namespace waitscope::protocols::http1 {

// Position just past the blank line ending the head that starts at data[0],
// or npos. `from` lets a caller resume a search over a growing buffer (the
// search restarts a few bytes earlier itself), keeping repeated calls linear.
std::size_t FindHeadEnd(std::string_view data, std::size_t from);

// Checks the start line's beginning while the head is incomplete, so garbage
// is rejected early instead of after kMaxHeadBytes. kOk: the complete first
// line is valid; kIncomplete: a valid prefix so far.
ParseStatus CheckStartLine(std::string_view data, bool request);

// Parse a complete head (data ends just after the blank line, as given by
// FindHeadEnd). kIncomplete is never returned.
ParseStatus ParseRequestHead(std::string_view head, MessageHead* out);
ParseStatus ParseResponseHead(std::string_view head, MessageHead* out);

// The request-line method tokens we recognise when looking for a message
// boundary (resynchronisation, protocol detection). Any token is accepted in
// an in-sync stream.
bool IsKnownMethod(std::string_view token);
// True when `s` is a proper prefix of a known method token ("GE", "PO").
bool IsKnownMethodPrefix(std::string_view s);

}  // namespace waitscope::protocols::http1
