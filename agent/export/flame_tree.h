// FlameNode tree: folded stacks merged by common prefix, the shape a flame
// graph draws. Children are sorted by name (the classic flame graph order, so
// the same input always draws the same picture, whatever the input order).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/stack.h"

namespace waitscope {

struct FlameNode {
  std::string name;
  std::uint64_t total = 0;  // this frame and everything above it
  std::vector<FlameNode> children;

  // Value spent in this frame itself (the stack ended here).
  std::uint64_t self() const;
};

// The root is a synthetic frame named `root_name` holding the sum of all
// values; stacks with no frames count there as self value. Zero-value stacks
// are ignored. Sums saturate at UINT64_MAX.
FlameNode BuildFlameTree(const std::vector<FoldedStack>& stacks, std::string root_name);

// Number of frame levels below and including `node` (1 for a leaf).
std::size_t FlameTreeDepth(const FlameNode& node);

}  // namespace waitscope
