#include "export/flamegraph_svg.h"

#include <algorithm>
#include <cstdint>
#include <string_view>

#include "core/atomic_file.h"
#include "core/utf8.h"
#include "export/flame_tree.h"
#include "export/flamegraph_script.h"
#include "export/xml_text.h"

namespace waitscope {
namespace {

// Average glyph width relative to the font size for Verdana-like fonts; used
// both here and in the script to decide how much of a name fits in a frame.
constexpr double kCharWidthRatio = 0.59;

struct Rgb {
  int r, g, b;
};

// FNV-1a: stable across runs, platforms and compilers, unlike std::hash, so a
// frame keeps its colour from one recording to the next.
std::uint64_t HashName(std::string_view name) {
  std::uint64_t h = 1469598103934665603ULL;
  for (char c : name) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;
  }
  return h;
}

enum class FrameKind { kKernel, kUnknown, kCxx, kOther };

// Heuristics on display names only: kernel symbols carry a "_[k]" suffix,
// unresolved frames are "[unknown]"-style or "module+0x..." offsets.
FrameKind ClassifyFrame(std::string_view name) {
  if (name.ends_with("_[k]") || name.ends_with("[kernel]")) return FrameKind::kKernel;
  if (name.starts_with('[') || name.find("+0x") != std::string_view::npos) {
    return FrameKind::kUnknown;
  }
  if (name.find("::") != std::string_view::npos) return FrameKind::kCxx;
  return FrameKind::kOther;
}

Rgb FrameColour(std::string_view name, FlamePalette palette) {
  const std::uint64_t h = HashName(name);
  const double v1 = static_cast<double>(h & 0xff) / 255.0;
  const double v2 = static_cast<double>((h >> 8) & 0xff) / 255.0;
  const double v3 = static_cast<double>((h >> 16) & 0xff) / 255.0;
  const auto c = [](double base, double span, double v) {
    return static_cast<int>(base + span * v);
  };
  const Rgb hot{c(205, 50, v3), c(0, 230, v1), c(0, 55, v2)};
  if (palette == FlamePalette::kHot) return hot;
  switch (ClassifyFrame(name)) {
    case FrameKind::kKernel:
      return Rgb{c(200, 55, v1), c(120, 60, v2), c(20, 40, v3)};
    case FrameKind::kUnknown:
      return Rgb{c(170, 40, v1), c(170, 40, v1), c(170, 40, v1)};
    case FrameKind::kCxx:
      return Rgb{c(190, 60, v1), c(190, 60, v1), c(40, 60, v2)};
    case FrameKind::kOther:
      return hot;
  }
  return hot;
}

std::string Px(double v) {
  return FormatFixed(v, 2);
}

// The part of `clean` (valid UTF-8) that fits `width_px`; ".." marks a cut.
std::string FitLabel(const std::string& clean, double width_px, double char_w) {
  const double fit = (width_px - 6) / char_w;
  if (fit < 3) return "";
  const auto n = static_cast<std::size_t>(fit);
  if (Utf8Length(clean) <= n) return clean;
  return std::string(Utf8Prefix(clean, n - 2)) + "..";
}

class SvgRenderer {
 public:
  SvgRenderer(const FlameGraphOptions& o, std::uint64_t total, std::size_t rows)
      : o_(o),
        total_(total),
        chart_x_(o.side_padding),
        chart_w_(std::max(1, o.width - 2 * o.side_padding)),
        char_w_(o.font_size * kCharWidthRatio),
        top_(o.font_size * 3),
        bottom_(o.font_size * 2 + 10),
        height_(top_ + static_cast<int>(rows) * o.frame_height + bottom_) {}

  std::string Render(const FlameNode* root) {
    Header(root != nullptr);
    if (root == nullptr) {
      out_ += "<text x=\"" + Px(o_.width / 2.0) + "\" y=\"" + Px(top_ + o_.frame_height - 4.0) +
              "\" text-anchor=\"middle\">no samples</text>\n";
    } else {
      out_ += "<g id=\"frames\">\n";
      DrawFrame(*root, 0, chart_x_);
      out_ += "</g>\n";
    }
    out_ += "</svg>\n";
    return std::move(out_);
  }

  double scale() const { return chart_w_ / static_cast<double>(total_); }

 private:
  void Header(bool interactive) {
    const std::string w = std::to_string(o_.width), h = std::to_string(height_);
    out_ += "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n";
    out_ += "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"" + w +
            "\" height=\"" + h + "\" viewBox=\"0 0 " + w + " " + h +
            "\" font-family=\"Verdana, sans-serif\" font-size=\"" + std::to_string(o_.font_size) +
            "\" data-chart-x=\"" + Px(chart_x_) + "\" data-chart-w=\"" + Px(chart_w_) +
            "\" data-char-w=\"" + FormatFixed(char_w_, 3) + "\"" +
            (interactive ? " onload=\"wsInit()\"" : "") + ">\n";
    out_ +=
        "<style>g.f > rect:hover { stroke: #000; stroke-width: 0.5; } g.f { cursor: pointer; } "
        "text { pointer-events: none; } #reset { cursor: pointer; pointer-events: all; } "
        ".hide { display: none; } .anc > rect { opacity: 0.5; }</style>\n";
    if (interactive) {
      out_ += "<script type=\"text/ecmascript\"><![CDATA[";
      out_ += FlameGraphScript();
      out_ += "]]></script>\n";
    }
    out_ += "<rect x=\"0\" y=\"0\" width=\"" + w + "\" height=\"" + h + "\" fill=\"#f8f8f8\"/>\n";
    out_ += "<text id=\"title\" x=\"" + Px(o_.width / 2.0) + "\" y=\"" + Px(o_.font_size * 2.0) +
            "\" text-anchor=\"middle\" font-size=\"" + std::to_string(o_.font_size + 5) + "\">" +
            XmlEscape(o_.title) + "</text>\n";
    out_ += "<text id=\"reset\" class=\"hide\" x=\"" + Px(chart_x_) + "\" y=\"" +
            Px(o_.font_size * 2.0) + "\">Reset zoom</text>\n";
    out_ += "<text id=\"details\" x=\"" + Px(chart_x_) + "\" y=\"" +
            Px(height_ - bottom_ / 2.0 + o_.font_size / 2.0) + "\"> </text>\n";
  }

  void DrawFrame(const FlameNode& node, std::size_t depth, double x) {
    const double w = static_cast<double>(node.total) * scale();
    const double y = height_ - bottom_ - static_cast<double>(depth + 1) * o_.frame_height;
    const std::string clean = SanitizeUtf8ForXml(node.name);
    const Rgb rgb = depth == 0 ? Rgb{200, 200, 200} : FrameColour(node.name, o_.palette);
    const double share = 100.0 * static_cast<double>(node.total) / static_cast<double>(total_);

    out_ += "<g class=\"f\"><title>" + XmlEscape(clean) + " \xE2\x80\x94 " +
            FormatValue(node.total, o_.unit) + " (" + FormatFixed(share, 2) + "%)</title>";
    out_ += "<rect x=\"" + Px(x) + "\" y=\"" + Px(y) + "\" width=\"" + Px(w) + "\" height=\"" +
            std::to_string(std::max(1, o_.frame_height - 1)) + "\" rx=\"2\" fill=\"rgb(" +
            std::to_string(rgb.r) + "," + std::to_string(rgb.g) + "," + std::to_string(rgb.b) +
            ")\"/>";
    out_ += "<text x=\"" + Px(x + 3) + "\" y=\"" + Px(y + o_.frame_height - 5.0) + "\">" +
            XmlEscape(FitLabel(clean, w, char_w_)) + "</text>\n";

    // Children are placed from cumulative values rather than by adding rounded
    // widths, so rounding never accumulates across many siblings.
    std::uint64_t before = 0;
    for (const FlameNode& child : node.children) {
      if (static_cast<double>(child.total) * scale() >= o_.min_frame_width_px) {
        DrawFrame(child, depth + 1, x + static_cast<double>(before) * scale());
      }
      before += child.total;
    }
    out_ += "</g>\n";
  }

  const FlameGraphOptions& o_;
  std::uint64_t total_;
  double chart_x_, chart_w_, char_w_;
  int top_, bottom_, height_;
  std::string out_;
};

// Levels that will actually be drawn, so omitted narrow towers leave no empty
// band at the top.
std::size_t DrawnDepth(const FlameNode& node, double scale, double min_px) {
  std::size_t deepest = 0;
  for (const FlameNode& c : node.children) {
    if (static_cast<double>(c.total) * scale >= min_px) {
      deepest = std::max(deepest, DrawnDepth(c, scale, min_px));
    }
  }
  return deepest + 1;
}

}  // namespace

std::string RenderFlameGraphSvg(const std::vector<FoldedStack>& stacks,
                                const FlameGraphOptions& options) {
  const FlameNode root = BuildFlameTree(stacks, options.root_name);
  if (root.total == 0) return SvgRenderer(options, 0, 1).Render(nullptr);
  const double scale =
      std::max(1, options.width - 2 * options.side_padding) / static_cast<double>(root.total);
  const std::size_t rows = DrawnDepth(root, scale, options.min_frame_width_px);
  return SvgRenderer(options, root.total, rows).Render(&root);
}

Status WriteFlameGraphSvg(const std::vector<FoldedStack>& stacks, const FlameGraphOptions& options,
                          const std::string& path) {
  return WriteFileAtomically(path, RenderFlameGraphSvg(stacks, options));
}

}  // namespace waitscope
