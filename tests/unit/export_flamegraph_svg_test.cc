#include <expat.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <sstream>

#include "export/flamegraph_svg.h"

namespace waitscope {
namespace {

// A minimal DOM built with expat, which rejects anything not well-formed
// (including invalid UTF-8 and characters XML 1.0 forbids).
struct Element {
  std::string name;
  std::map<std::string, std::string> attrs;
  std::string text;  // character data directly inside, entities decoded
  std::vector<std::unique_ptr<Element>> children;
  Element* parent = nullptr;

  const Element* Child(const std::string& tag) const {
    for (const auto& c : children) {
      if (c->name == tag) return c.get();
    }
    return nullptr;
  }
  double Num(const std::string& attr) const { return std::stod(attrs.at(attr)); }
};

struct ParsedSvg {
  std::unique_ptr<Element> root;
  std::string error;
};

ParsedSvg ParseXml(const std::string& doc) {
  struct State {
    std::unique_ptr<Element> root;
    Element* current = nullptr;
  } st;
  XML_Parser parser = XML_ParserCreate("UTF-8");
  XML_SetUserData(parser, &st);
  XML_SetElementHandler(
      parser,
      [](void* ud, const XML_Char* name, const XML_Char** atts) {
        auto* s = static_cast<State*>(ud);
        auto e = std::make_unique<Element>();
        e->name = name;
        for (int i = 0; atts[i] != nullptr; i += 2) e->attrs[atts[i]] = atts[i + 1];
        e->parent = s->current;
        Element* raw = e.get();
        if (s->current == nullptr) {
          s->root = std::move(e);
        } else {
          s->current->children.push_back(std::move(e));
        }
        s->current = raw;
      },
      [](void* ud, const XML_Char*) {
        auto* s = static_cast<State*>(ud);
        s->current = s->current->parent;
      });
  XML_SetCharacterDataHandler(parser, [](void* ud, const XML_Char* data, int len) {
    auto* s = static_cast<State*>(ud);
    if (s->current != nullptr) s->current->text.append(data, static_cast<std::size_t>(len));
  });
  ParsedSvg out;
  if (XML_Parse(parser, doc.data(), static_cast<int>(doc.size()), 1) == XML_STATUS_ERROR) {
    out.error = std::string(XML_ErrorString(XML_GetErrorCode(parser))) + " at line " +
                std::to_string(XML_GetCurrentLineNumber(parser));
  } else {
    out.root = std::move(st.root);
  }
  XML_ParserFree(parser);
  return out;
}

const Element* FindById(const Element& e, const std::string& id) {
  auto it = e.attrs.find("id");
  if (it != e.attrs.end() && it->second == id) return &e;
  for (const auto& c : e.children) {
    if (const Element* f = FindById(*c, id)) return f;
  }
  return nullptr;
}

std::vector<const Element*> Frames(const Element& g) {
  std::vector<const Element*> out;
  for (const auto& c : g.children) {
    if (c->name == "g" && c->attrs.count("class") && c->attrs.at("class") == "f") {
      out.push_back(c.get());
    }
  }
  return out;
}

void CollectAll(const Element& g, std::vector<const Element*>* out) {
  for (const Element* f : Frames(g)) {
    out->push_back(f);
    CollectAll(*f, out);
  }
}

std::string Title(const Element& frame) {
  return frame.Child("title")->text;
}
std::string NameOf(const Element& frame) {
  const std::string t = Title(frame);
  return t.substr(0, t.rfind(" \xE2\x80\x94 "));
}
const Element* FindFrame(const Element& g, const std::string& name) {
  std::vector<const Element*> all;
  CollectAll(g, &all);
  for (const Element* f : all) {
    if (NameOf(*f) == name) return f;
  }
  return nullptr;
}

struct Rendered {
  std::string doc;
  ParsedSvg svg;
  const Element* root_frame = nullptr;
};

Rendered Render(const std::vector<FoldedStack>& stacks, const FlameGraphOptions& o = {}) {
  Rendered r;
  r.doc = RenderFlameGraphSvg(stacks, o);
  r.svg = ParseXml(r.doc);
  if (r.svg.root == nullptr) return r;
  const Element* frames = FindById(*r.svg.root, "frames");
  if (frames == nullptr) return r;
  const auto top = Frames(*frames);
  if (top.size() == 1) r.root_frame = top[0];
  return r;
}

constexpr double kEps = 0.02;  // coordinates are written with 2 decimals

TEST(ExportFlameGraphSvg, IsWellFormedSvgWithRootSpanningTheChart) {
  Rendered r = Render({{{"main", "serve", "read"}, 30'000'000}, {{"main", "accept"}, 10'000'000}});
  ASSERT_NE(r.svg.root, nullptr) << r.svg.error << "\n" << r.doc;
  EXPECT_EQ(r.svg.root->name, "svg");
  EXPECT_EQ(r.svg.root->attrs.at("xmlns"), "http://www.w3.org/2000/svg");
  EXPECT_EQ(r.svg.root->attrs.at("width"), "1200");
  ASSERT_NE(r.root_frame, nullptr);
  const Element* rect = r.root_frame->Child("rect");
  ASSERT_NE(rect, nullptr);
  EXPECT_DOUBLE_EQ(rect->Num("width"), 1200 - 2 * 10);
  EXPECT_DOUBLE_EQ(rect->Num("x"), 10);
  EXPECT_EQ(Title(*r.root_frame), "all \xE2\x80\x94 40.0ms (100.00%)");
  const Element* read = FindFrame(*r.root_frame, "read");
  ASSERT_NE(read, nullptr);
  EXPECT_EQ(Title(*read), "read \xE2\x80\x94 30.0ms (75.00%)");
}

// Checks every frame: children lie inside their parent, side by side, one row
// up; when `exact`, their widths add up to the parent's.
void CheckGeometry(const Element& frame, bool exact, int* checked) {
  const Element* rect = frame.Child("rect");
  ASSERT_NE(rect, nullptr);
  const auto kids = Frames(frame);
  double sum = 0, next_x = rect->Num("x");
  for (const Element* k : kids) {
    const Element* kr = k->Child("rect");
    ASSERT_NE(kr, nullptr);
    EXPECT_NEAR(kr->Num("x"), next_x, kEps) << Title(*k);
    EXPECT_DOUBLE_EQ(kr->Num("y"), rect->Num("y") - 16) << "root at the bottom, 16px rows";
    next_x = kr->Num("x") + kr->Num("width");
    sum += kr->Num("width");
    CheckGeometry(*k, exact, checked);
  }
  if (kids.empty()) return;
  ++*checked;
  EXPECT_LE(sum, rect->Num("width") + kEps * static_cast<double>(kids.size())) << Title(frame);
  if (exact) {
    EXPECT_NEAR(sum, rect->Num("width"), kEps * static_cast<double>(kids.size())) << Title(frame);
  }
}

TEST(ExportFlameGraphSvg, ChildrenFillParentsWithoutSelfValue) {
  // Only leaves have self value.
  Rendered r = Render({{{"a", "b"}, 10},
                       {{"a", "c"}, 20},
                       {{"d", "e", "f"}, 30},
                       {{"d", "e", "g"}, 7},
                       {{"h"}, 3}});
  ASSERT_NE(r.root_frame, nullptr) << r.svg.error;
  int checked = 0;
  CheckGeometry(*r.root_frame, /*exact=*/true, &checked);
  EXPECT_EQ(checked, 4);  // all, a, d, e
}

TEST(ExportFlameGraphSvg, SelfValueLeavesRoomInParent) {
  Rendered r = Render({{{"a"}, 10}, {{"a", "b"}, 30}, {{"c"}, 60}});
  ASSERT_NE(r.root_frame, nullptr) << r.svg.error;
  int checked = 0;
  CheckGeometry(*r.root_frame, /*exact=*/false, &checked);
  const Element* a = FindFrame(*r.root_frame, "a");
  const Element* b = FindFrame(*r.root_frame, "b");
  ASSERT_TRUE(a && b);
  EXPECT_NEAR(a->Child("rect")->Num("width"), 1180 * 0.4, kEps);
  EXPECT_NEAR(b->Child("rect")->Num("width"), 1180 * 0.3, kEps);
}

TEST(ExportFlameGraphSvg, NarrowFramesAreOmittedButCounted) {
  FlameGraphOptions o;
  o.unit = ValueUnit::kCount;
  // tiny: 1180 * 5 / 100005 = 0.059 px, below the 0.1 px cut.
  Rendered r = Render({{{"big", "x"}, 100'000}, {{"tiny", "deep", "deeper"}, 5}}, o);
  ASSERT_NE(r.root_frame, nullptr) << r.svg.error;
  EXPECT_EQ(FindFrame(*r.root_frame, "tiny"), nullptr);
  EXPECT_EQ(FindFrame(*r.root_frame, "deeper"), nullptr);
  const auto kids = Frames(*r.root_frame);
  ASSERT_EQ(kids.size(), 1u);
  EXPECT_DOUBLE_EQ(r.root_frame->Child("rect")->Num("width"), 1180);
  EXPECT_NEAR(kids[0]->Child("rect")->Num("width"), 1180.0 * 100'000 / 100'005, kEps);
  EXPECT_LT(kids[0]->Child("rect")->Num("width"), 1180 - 0.05);
  EXPECT_EQ(Title(*r.root_frame), "all \xE2\x80\x94 100005 (100.00%)");
  // Omitted levels leave no empty rows: 3 drawn levels (all, big, x), and the
  // 4-level tiny tower would need one more.
  EXPECT_LT(r.svg.root->Num("height"), 12 * 3 + 4 * 16 + 12 * 2 + 10);
}

TEST(ExportFlameGraphSvg, EscapesMarkupAndRepairsInvalidUtf8) {
  const std::string nasty = "op<&>\"'";
  const std::string bad_utf8 = std::string("bad\xff\xfe") + "\x01" + "end\xC3";
  FlameGraphOptions o;
  o.title = "title <&> \"quoted\"";
  Rendered r = Render({{{nasty, bad_utf8}, 5}, {{"ok\nline"}, 5}}, o);
  ASSERT_NE(r.root_frame, nullptr) << r.svg.error << "\n" << r.doc;
  EXPECT_EQ(r.doc.find("op<&"), std::string::npos);
  const Element* a = FindFrame(*r.root_frame, nasty);
  ASSERT_NE(a, nullptr);
  const std::string fffd = "\xEF\xBF\xBD";
  EXPECT_NE(FindFrame(*a, "bad" + fffd + fffd + fffd + "end" + fffd), nullptr);
  EXPECT_NE(FindFrame(*r.root_frame, "ok line"), nullptr);
  EXPECT_EQ(FindById(*r.svg.root, "title")->text, o.title);
}

TEST(ExportFlameGraphSvg, EmptyInputSaysNoSamples) {
  for (const std::vector<FoldedStack>& input :
       {std::vector<FoldedStack>{}, std::vector<FoldedStack>{{{"a"}, 0}}}) {
    Rendered r = Render(input);
    ASSERT_NE(r.svg.root, nullptr) << r.svg.error << "\n" << r.doc;
    EXPECT_EQ(r.svg.root->name, "svg");
    EXPECT_EQ(FindById(*r.svg.root, "frames"), nullptr);
    EXPECT_NE(r.doc.find(">no samples</text>"), std::string::npos);
  }
}

TEST(ExportFlameGraphSvg, IsSelfContainedAndInteractive) {
  Rendered r = Render({{{"a", "b"}, 1}});
  ASSERT_NE(r.svg.root, nullptr) << r.svg.error;
  EXPECT_EQ(r.svg.root->attrs.at("onload"), "wsInit()");
  const Element* script = r.svg.root->Child("script");
  ASSERT_NE(script, nullptr);
  EXPECT_NE(script->text.find("function wsZoom"), std::string::npos);
  EXPECT_NE(FindById(*r.svg.root, "reset"), nullptr);
  EXPECT_NE(FindById(*r.svg.root, "details"), nullptr);
  for (const char* external : {"href", "src=", "@import", "url("}) {
    EXPECT_EQ(r.doc.find(external), std::string::npos) << external;
  }
}

TEST(ExportFlameGraphSvg, LabelsAreTruncatedToFit) {
  const std::string long_name(400, 'x');
  Rendered r = Render({{{"short"}, 50}, {{long_name}, 50}});
  ASSERT_NE(r.root_frame, nullptr);
  EXPECT_EQ(FindFrame(*r.root_frame, "short")->Child("text")->text, "short");
  const std::string label = FindFrame(*r.root_frame, long_name)->Child("text")->text;
  EXPECT_LT(label.size(), 590 / 7u);
  EXPECT_GT(label.size(), 40u);
  EXPECT_TRUE(label.ends_with("..")) << label;
}

TEST(ExportFlameGraphSvg, ColoursAreDeterministicPerName) {
  for (FlamePalette palette : {FlamePalette::kHot, FlamePalette::kByKind}) {
    FlameGraphOptions o;
    o.palette = palette;
    Rendered r = Render({{{"a", "same"}, 1}, {{"b", "same"}, 1}, {{"c"}, 1}}, o);
    ASSERT_NE(r.root_frame, nullptr) << r.svg.error;
    const Element* a = FindFrame(*r.root_frame, "a");
    const Element* b = FindFrame(*r.root_frame, "b");
    ASSERT_TRUE(a && b);
    EXPECT_EQ(Frames(*a)[0]->Child("rect")->attrs.at("fill"),
              Frames(*b)[0]->Child("rect")->attrs.at("fill"));
    EXPECT_NE(a->Child("rect")->attrs.at("fill"), b->Child("rect")->attrs.at("fill"));
  }
}

TEST(ExportFlameGraphSvg, OutputDoesNotDependOnInputOrder) {
  std::vector<FoldedStack> stacks = {{{"b", "x"}, 1}, {{"a"}, 2}, {{"b"}, 3}, {{"a", "z"}, 4}};
  const std::string first = RenderFlameGraphSvg(stacks, {});
  std::reverse(stacks.begin(), stacks.end());
  EXPECT_EQ(RenderFlameGraphSvg(stacks, {}), first);
  Rendered r = Render(stacks);
  ASSERT_NE(r.root_frame, nullptr);
  const auto kids = Frames(*r.root_frame);
  ASSERT_EQ(kids.size(), 2u);
  EXPECT_EQ(NameOf(*kids[0]), "a");  // siblings sorted by name
  EXPECT_EQ(NameOf(*kids[1]), "b");
}

TEST(ExportFlameGraphSvg, CountUnitAndWrite) {
  FlameGraphOptions o;
  o.unit = ValueUnit::kCount;
  o.root_name = "total";
  const std::vector<FoldedStack> stacks = {{{"a"}, 3}, {{"b"}, 1}};
  Rendered r = Render(stacks, o);
  ASSERT_NE(r.root_frame, nullptr);
  EXPECT_EQ(Title(*r.root_frame), "total \xE2\x80\x94 4 (100.00%)");

  const std::string path =
      ::testing::TempDir() + "/export_svg_" + std::to_string(::getpid()) + ".svg";
  ASSERT_TRUE(WriteFlameGraphSvg(stacks, o, path).ok());
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  EXPECT_EQ(ss.str(), r.doc);
  ::unlink(path.c_str());
}

}  // namespace
}  // namespace waitscope
