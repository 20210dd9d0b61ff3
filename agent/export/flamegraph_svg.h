// Interactive flame graph as one self-contained SVG file (no external
// scripts, fonts or styles), for a person to open in a browser.
//
// Layout: the synthetic root spans the full chart width at the bottom and each
// frame sits on its caller, its width proportional to its value; siblings are
// sorted by name. Frames narrower than `min_frame_width_px` are not drawn, but
// their value still counts in their parent's width. Each frame is a
// <g class="f"> holding <title> ("name — value (share %)"), <rect>, <text>,
// and then its callees' <g> elements, so the document nests like the stacks.
// Clicking a frame zooms to it, clicking the root or "Reset zoom" resets;
// hovering shows the frame's details at the bottom.
//
// Any bytes in frame names give a well-formed document (see xml_text.h).
// Empty input (or only zero values) gives a valid SVG saying "no samples".
#pragma once

#include <string>
#include <vector>

#include "core/result.h"
#include "core/stack.h"
#include "export/value_format.h"

namespace waitscope {

enum class FlamePalette {
  kHot,     // warm colours from a hash of the frame name
  kByKind,  // hue by frame kind (kernel, unknown, C++ or other), shade by hash
};

struct FlameGraphOptions {
  std::string title = "waitscope: blocked time";
  std::string root_name = "all";
  ValueUnit unit = ValueUnit::kNanoseconds;
  FlamePalette palette = FlamePalette::kHot;
  int width = 1200;       // of the whole image, px
  int side_padding = 10;  // left and right; the chart is width - 2 * side_padding wide
  int frame_height = 16;  // px per stack level
  int font_size = 12;
  double min_frame_width_px = 0.1;
};

std::string RenderFlameGraphSvg(const std::vector<FoldedStack>& stacks,
                                const FlameGraphOptions& options);
Status WriteFlameGraphSvg(const std::vector<FoldedStack>& stacks, const FlameGraphOptions& options,
                          const std::string& path);

}  // namespace waitscope
