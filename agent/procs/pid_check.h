// Checks on process ids a person gave on the command line (-p), shared by
// `record` and `top`, so both reject the same things with the same words.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace waitscope {

// True when a process with this pid exists (also one we may not signal).
bool ProcessExists(std::uint32_t pid);

// What /proc/PID/stat says about a process, as far as tracing it goes.
enum class ProcessKind : std::uint8_t {
  kUser,          // a user-space process: traceable
  kKernelThread,  // PF_KTHREAD: it makes no syscalls and has no user stack
  kZombie,        // exited, not yet reaped by its parent: nothing runs
  kUnknown,       // the text did not parse
};

// From the text of /proc/PID/stat ("pid (comm) S ppid ... flags ..."). The
// comm may hold spaces and ')' itself, so fields count from the last ')'.
ProcessKind ProcessKindFromStat(std::string_view stat);

// Ok when every pid names a running user-space process other than waitscope
// itself; else one line naming the first bad pid.
Status ValidateTracePids(const std::vector<std::uint32_t>& pids);

}  // namespace waitscope
