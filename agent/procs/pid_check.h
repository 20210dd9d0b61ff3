// Checks on process ids a person gave on the command line (-p), shared by
// `record` and `top`, so both reject the same things with the same words.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
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

// The process a task belongs to, from the text of /proc/ID/status (its
// "Tgid:" line); nullopt if there is none.
std::optional<std::uint32_t> TgidFromStatus(std::string_view status);

struct TracePids {
  std::vector<std::uint32_t> pids;  // processes to trace, each once, in the order given
  // One line per thread id given (from `top -H`, a JVM thread dump): the
  // process traced for it. Waits are traced per process; a thread id would
  // otherwise match no process and record nothing.
  std::vector<std::string> notes;
};

// Ok when every pid names a running user-space process, or a thread of one,
// other than waitscope itself; else one line naming the first bad pid.
Result<TracePids> ResolveTracePids(const std::vector<std::uint32_t>& given);

}  // namespace waitscope
