// Turns an HTTP request-target into the low-cardinality, redacted route that
// names an endpoint ("/orders/{id}"), and, only when values may be captured,
// a bounded printable copy of the raw target.
//
// Route rules: the query string and fragment are dropped; an absolute-form
// target ("http://host/p") keeps only its path; path segments made of digits
// become {id}, UUIDs (8-4-4-4-12 hex) {uuid}, 16 or more hex digits {hex};
// other segments are kept as they are (percent-encoding untouched). Bytes
// outside printable ASCII are written as %XX so the output is always valid
// UTF-8. The result is at most kMaxRouteBytes (+ "..." when cut).
#pragma once

#include <string>
#include <string_view>

namespace waitscope::protocols::http1 {

std::string TemplateRoute(std::string_view target);

// The raw target with query string, for --capture-values; escaped and capped
// like a route.
std::string RawTarget(std::string_view target);

}  // namespace waitscope::protocols::http1
