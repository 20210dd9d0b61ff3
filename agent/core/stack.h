// Stack representations shared by the symbolizer, the aggregation and every
// output format. Stacks are always stored root first (outermost caller first,
// the frame that made the syscall last), the order folded stacks use.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace waitscope {

struct Frame {
  std::string name;    // display name: demangled function, or "module+0x1f2" when unknown
  std::string module;  // path of the mapped object ("[vdso]", "[anon]", "[unknown]" otherwise)
  bool operator==(const Frame&) const = default;
};

// A stack with a value, the unit that folded, pprof and SVG outputs consume.
// `frames` here are plain strings because those outputs also carry synthetic
// frames (process, wait class, syscall + target) around the real ones.
struct FoldedStack {
  std::vector<std::string> frames;  // root first
  std::uint64_t value = 0;
};

}  // namespace waitscope
