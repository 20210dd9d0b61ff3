// GzipCompress: wraps bytes in a gzip member (RFC 1952 header and trailer, not
// raw deflate or zlib framing), the container pprof readers expect for
// profile.proto files and that HTTP `Content-Encoding: gzip` pushes use.
#pragma once

#include <string>
#include <string_view>

#include "core/result.h"

namespace waitscope {

// Deterministic for a given input and zlib version: the header carries no
// timestamp or file name, so identical profiles give identical files.
Result<std::string> GzipCompress(std::string_view bytes);

}  // namespace waitscope
