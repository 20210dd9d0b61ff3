// Writes an output file so readers never see a half-written one: the bytes go
// to a temporary file in the same directory, are flushed to disk, and the
// temporary is renamed over `path`. Contract: on success `path` holds exactly
// `contents` (mode 0644); on failure `path` is untouched, no temporary is left
// behind, and the Error names the path and the failing step.
#pragma once

#include <string>
#include <string_view>

#include "core/result.h"

namespace waitscope {

Status WriteFileAtomically(const std::string& path, std::string_view contents);

}  // namespace waitscope
