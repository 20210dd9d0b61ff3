// Builds the flame-style views of a recording's waits: folded stacks (also
// the SVG's input) and the pprof profile. One place decides the frame layout
// so the three files always agree:
//   process "comm (pid)" ; wait class ; user stack (root first) ; "syscall target"
#pragma once

#include <string>
#include <vector>

#include "core/stack.h"
#include "export/pprof.h"
#include "report/report.h"

namespace waitscope {

std::vector<FoldedStack> WaitFoldedStacks(const Report& report);
PprofProfile WaitPprofProfile(const Report& report, std::int64_t start_unix_ns);

// The frame shown in place of the stack when none was taken.
std::string MissingStackFrame(const WaitStack& stack, std::uint64_t min_block_ns);

}  // namespace waitscope
