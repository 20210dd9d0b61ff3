// Parsing of sizes typed by people ("64MiB", "1GB", "512k", "0").
// Contract: decimal prefixes (k, M, G, T) are powers of 1000 and binary ones
// (Ki, Mi, Gi, Ti) powers of 1024, as in the IEC/SI standards; the trailing
// "B" is optional and letters are case-insensitive. A bare number is bytes.
// Fractions are allowed ("1.5GiB") and rounded to whole bytes.
#pragma once

#include <cstdint>
#include <string_view>

#include "core/result.h"

namespace waitscope {

// Rejects negatives, unknown units and anything above 2^62 bytes (no config
// needs more, and the headroom keeps sums of sizes from overflowing). The
// error says what was wrong with `text`.
Result<std::uint64_t> ParseByteSize(std::string_view text);

}  // namespace waitscope
