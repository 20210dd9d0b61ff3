// The JavaScript embedded in flame graph SVGs (click-to-zoom, hover details).
// It relies on the document structure flamegraph_svg.cc writes: nested
// <g class="f"> frames inside <g id="frames">, each with <title>, <rect> and
// <text> children, and data-chart-x, data-chart-w and data-char-w attributes
// on the <svg> element. The text never contains "]]>", so it can sit in CDATA.
#pragma once

#include <string_view>

namespace waitscope {

std::string_view FlameGraphScript();

}  // namespace waitscope
