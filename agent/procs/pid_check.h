// Checks on process ids a person gave on the command line (-p), shared by
// `record` and `top`, so both reject the same things with the same words.
#pragma once

#include <cstdint>
#include <vector>

#include "core/result.h"

namespace waitscope {

// True when a process with this pid exists (also one we may not signal).
bool ProcessExists(std::uint32_t pid);

// Ok when every pid names a running process other than waitscope itself;
// else one line naming the first bad pid.
Status ValidateTracePids(const std::vector<std::uint32_t>& pids);

}  // namespace waitscope
