// WriteFileAtomically: the one way export writers put bytes on disk. The data
// goes to a temporary file beside `path` that is renamed over `path` only after
// every byte was written, so a reader (flamegraph.pl, pprof, a browser, a
// script polling the output directory) never sees a half-written file, and a
// failed write leaves any previous file untouched.
#pragma once

#include <string>
#include <string_view>

#include "core/result.h"

namespace waitscope {

// Errors name the path and the failing call. Not safe to call concurrently for
// the same `path` from several threads (they would share the temporary name).
Status WriteFileAtomically(const std::string& path, std::string_view bytes);

}  // namespace waitscope
