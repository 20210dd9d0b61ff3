#include "export/flame_tree.h"

#include <algorithm>
#include <limits>

namespace waitscope {
namespace {

void AddSaturating(std::uint64_t& total, std::uint64_t v) {
  constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
  total = total > kMax - v ? kMax : total + v;
}

}  // namespace

std::uint64_t FlameNode::self() const {
  std::uint64_t in_children = 0;
  for (const FlameNode& c : children) AddSaturating(in_children, c.total);
  return total > in_children ? total - in_children : 0;
}

FlameNode BuildFlameTree(const std::vector<FoldedStack>& stacks, std::string root_name) {
  std::vector<const FoldedStack*> sorted;
  sorted.reserve(stacks.size());
  for (const FoldedStack& s : stacks) {
    if (s.value > 0) sorted.push_back(&s);
  }
  // With stacks in lexicographic order, a frame that already exists under its
  // parent is always that parent's most recently added child, so merging
  // needs no lookup and children come out sorted by name.
  std::stable_sort(sorted.begin(), sorted.end(), [](const FoldedStack* a, const FoldedStack* b) {
    return a->frames < b->frames;
  });

  FlameNode root{std::move(root_name), 0, {}};
  for (const FoldedStack* s : sorted) {
    AddSaturating(root.total, s->value);
    FlameNode* node = &root;
    for (const std::string& frame : s->frames) {
      if (node->children.empty() || node->children.back().name != frame) {
        node->children.push_back(FlameNode{frame, 0, {}});
      }
      node = &node->children.back();
      AddSaturating(node->total, s->value);
    }
  }
  return root;
}

std::size_t FlameTreeDepth(const FlameNode& node) {
  std::size_t deepest = 0;
  for (const FlameNode& c : node.children) deepest = std::max(deepest, FlameTreeDepth(c));
  return deepest + 1;
}

}  // namespace waitscope
