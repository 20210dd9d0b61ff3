// `waitscope top` rendering: the screen fits the terminal, sort keys order
// rows, names cannot inject escapes, and an empty view says why it is empty.
#include "top/top_view.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "report/display_text.h"
#include "top/terminal.h"
#include "top/top_test_reports.h"

namespace waitscope::top {
namespace {

using testing::BusyWindow;
using testing::Wait;

TopModel ModelOf(const Report& window) {
  TopModel model;
  model.AddWindow(window, {1000, 0, window.targets.size()}, 1.0);
  return model;
}

std::string Joined(const std::vector<ScreenLine>& lines) {
  std::string out;
  for (const ScreenLine& l : lines) out += l.text + "\n";
  return out;
}

// The first line index whose text starts with `prefix`, or -1.
int LineStarting(const std::vector<ScreenLine>& lines, const std::string& prefix) {
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].text.rfind(prefix, 0) == 0) return static_cast<int>(i);
  }
  return -1;
}

TEST(TopView, FitsEightyByTwentyFourForEveryFocusAndSort) {
  const TopModel model = ModelOf(BusyWindow(40));
  for (Section focus : kAllSections) {
    for (SortKey sort : {SortKey::kTime, SortKey::kCount, SortKey::kP95, SortKey::kName}) {
      ViewState view;
      view.focus = focus;
      view.sort = sort;
      const std::vector<ScreenLine> lines = RenderScreen(model, view, 80, 24);
      EXPECT_EQ(lines.size(), 24u) << "a busy screen uses every row";
      for (const ScreenLine& l : lines) {
        EXPECT_LE(DisplayWidth(l.text), 80u) << l.text;
        EXPECT_EQ(l.text.find('\n'), std::string::npos);
      }
    }
  }
}

TEST(TopView, FitsOtherSizesIncludingTiny) {
  const TopModel model = ModelOf(BusyWindow(40));
  for (auto [w, h] : std::vector<std::pair<std::size_t, std::size_t>>{
           {1, 1}, {10, 3}, {40, 10}, {80, 7}, {132, 43}, {300, 100}}) {
    const std::vector<ScreenLine> lines = RenderScreen(model, ViewState{}, w, h);
    EXPECT_LE(lines.size(), h);
    for (const ScreenLine& l : lines) EXPECT_LE(DisplayWidth(l.text), w) << w << "x" << h;
  }
}

TEST(TopView, ShowsEverySectionAt80x24) {
  const std::vector<ScreenLine> lines = RenderScreen(ModelOf(BusyWindow(3)), ViewState{}, 80, 24);
  const std::string text = Joined(lines);
  for (const char* title : {"1 PROCESSES (3)", "2 ENDPOINTS (3)", "3 STATEMENTS (3)", "4 PEERS (3)",
                            "5 FINDINGS (3)"}) {
    EXPECT_NE(text.find(title), std::string::npos) << title << "\n" << text;
  }
  EXPECT_NE(text.find("n_plus_one"), std::string::npos);
  EXPECT_NE(text.find("db 75%, cpu 25%"), std::string::npos) << text;
}

TEST(TopView, FocusedSectionGetsMostRows) {
  const TopModel model = ModelOf(BusyWindow(40));
  ViewState view;
  view.focus = Section::kStatements;
  const std::vector<ScreenLine> lines = RenderScreen(model, view, 80, 24);
  const int statements = LineStarting(lines, "3 STATEMENTS");
  const int peers = LineStarting(lines, "4 PEERS");
  const int processes = LineStarting(lines, "1 PROCESSES");
  const int endpoints = LineStarting(lines, "2 ENDPOINTS");
  ASSERT_GE(statements, 0);
  ASSERT_GT(peers, statements);
  EXPECT_GE(peers - statements - 1, 8) << Joined(lines);
  EXPECT_LE(endpoints - processes - 1, 2) << Joined(lines);
  EXPECT_EQ(lines[static_cast<std::size_t>(statements)].style, LineStyle::kFocusedHeader);
  EXPECT_EQ(lines[static_cast<std::size_t>(peers)].style, LineStyle::kSectionHeader);
}

TEST(TopView, SortKeysChangeOrder) {
  Report r;
  r.duration_s = 1;
  // alpha: few long waits; beta: many short ones.
  r.waits.push_back(Wait(1, "alpha", WaitClass::kLock, 2, 900'000'000));
  r.waits.push_back(Wait(2, "beta", WaitClass::kNet, 500, 100'000'000));
  r.waits.push_back(Wait(3, "gamma", WaitClass::kDisk, 50, 300'000'000));
  const TopModel model = ModelOf(r);
  auto order = [&](SortKey sort) {
    std::string names;
    for (const auto& row : BuildSection(Section::kProcesses, model, sort).rows) {
      names += row[0].substr(0, row[0].find(' ')) + ",";
    }
    return names;
  };
  EXPECT_EQ(order(SortKey::kTime), "alpha,gamma,beta,");
  EXPECT_EQ(order(SortKey::kCount), "beta,gamma,alpha,");
  EXPECT_EQ(order(SortKey::kP95), "alpha,gamma,beta,");  // longest single wait
  EXPECT_EQ(order(SortKey::kName), "alpha,beta,gamma,");

  Report q;
  q.duration_s = 1;
  q.queries.push_back(testing::Query(1, "SELECT slow", 2, 50'000));
  q.queries.push_back(testing::Query(1, "SELECT frequent", 900, 100));
  const TopModel qm = ModelOf(q);
  EXPECT_EQ(BuildSection(Section::kStatements, qm, SortKey::kCount).rows[0][0], "SELECT frequent");
  EXPECT_EQ(BuildSection(Section::kStatements, qm, SortKey::kP95).rows[0][0], "SELECT slow");
}

TEST(TopView, SameNameInSeveralProcessesShowsThePid) {
  Report r;
  r.duration_s = 1;
  r.queries.push_back(testing::Query(11, "SELECT shared", 3, 100));
  r.queries.push_back(testing::Query(12, "SELECT shared", 4, 100));
  r.queries.push_back(testing::Query(12, "SELECT alone", 1, 100));
  std::vector<std::string> names;
  for (const auto& row : BuildSection(Section::kStatements, ModelOf(r), SortKey::kName).rows) {
    names.push_back(row[0]);
  }
  // Equal names: the busier row first.
  EXPECT_EQ(names,
            (std::vector<std::string>{"SELECT alone", "SELECT shared (12)", "SELECT shared (11)"}));
}

TEST(TopView, ClassSharesDropWholeItemsToFit) {
  Report r;
  r.duration_s = 1;
  r.waits.push_back(Wait(1, "app", WaitClass::kSleep, 1, 400));
  r.waits.push_back(Wait(1, "app", WaitClass::kPipe, 1, 300));
  r.waits.push_back(Wait(1, "app", WaitClass::kLock, 1, 200));
  r.waits.push_back(Wait(1, "app", WaitClass::kDisk, 1, 100));
  const TopModel model = ModelOf(r);
  EXPECT_EQ(BuildSection(Section::kProcesses, model, SortKey::kTime).rows[0][5],
            "sleep 40%, pipe 30%, lock 20%, disk 10%");
  const std::string text = Joined(RenderScreen(model, ViewState{}, 80, 24));
  EXPECT_NE(text.find("sleep 40%, pipe 30%\n"), std::string::npos) << text;
}

TEST(TopView, ControlCharactersInNamesAreSanitized) {
  Report r;
  r.duration_s = 1;
  r.targets.push_back({7, "evil\x1b[2J\r\n\x07", ""});
  r.waits.push_back(Wait(7, "evil\x1b[2J\r\n\x07", WaitClass::kDisk, 1, 1000));
  r.queries.push_back(testing::Query(7, "SELECT '\x1b]0;owned\x07'\n", 1, 10));
  r.http.push_back(testing::Http(7, "GET /\x1b[31mred", 1));
  r.findings.push_back(testing::Finding(7, "slow_query",
                                        "bad\x9b"
                                        "31m \xff summary"));
  const TopModel model = ModelOf(r);
  for (const std::vector<ScreenLine>& lines :
       {RenderScreen(model, ViewState{}, 80, 24), RenderScreen(model, ViewState{}, 200, 60)}) {
    for (const ScreenLine& l : lines) {
      for (unsigned char c : l.text) {
        EXPECT_FALSE(c < 0x20 || c == 0x7f) << "control byte in: " << l.text;
      }
      EXPECT_EQ(l.text.find("\xc2\x9b"), std::string::npos) << "C1 CSI in: " << l.text;
    }
    EXPECT_NE(Joined(lines).find("evil?[2J???"), std::string::npos) << Joined(lines);
  }
  const std::string plain = RenderPlain(model, ViewState{}, "t", 100, 10);
  EXPECT_EQ(plain.find('\x1b'), std::string::npos);
}

TEST(TopView, EmptyViewSaysWhatItIsWaitingFor) {
  TopModel none;
  std::string text = Joined(RenderScreen(none, ViewState{}, 80, 24));
  EXPECT_NE(text.find("collecting the first"), std::string::npos) << text;

  const TopModel empty = ModelOf(Report{});
  text = Joined(RenderScreen(empty, ViewState{}, 80, 24));
  EXPECT_NE(text.find("no traced process has blocked"), std::string::npos) << text;
  EXPECT_NE(text.find("HTTP/1.x requests"), std::string::npos) << text;
  EXPECT_NE(text.find("PostgreSQL, MySQL and Redis"), std::string::npos) << text;

  ViewState no_wire;
  no_wire.wire_tracing = false;
  text = Joined(RenderScreen(empty, no_wire, 80, 24));
  EXPECT_NE(text.find("--capture-bytes 0"), std::string::npos) << text;
}

TEST(TopView, PlainBlockHasHeaderSectionsAndNoEscapes) {
  const std::string block =
      RenderPlain(ModelOf(BusyWindow(12)), ViewState{}, "2024-01-02 03:04:05", 100, 10);
  EXPECT_EQ(block.rfind("=== waitscope top 2024-01-02 03:04:05", 0), 0u) << block;
  for (const char* title : {"\nPROCESSES (12)", "\nENDPOINTS (12)", "\nSTATEMENTS (12)",
                            "\nPEERS (12)", "\nFINDINGS (12)", "... 2 more"}) {
    EXPECT_NE(block.find(title), std::string::npos) << title;
  }
  EXPECT_EQ(block.find('\x1b'), std::string::npos);
  std::size_t start = 0;
  while (start < block.size()) {
    const std::size_t end = block.find('\n', start);
    EXPECT_LE(DisplayWidth(block.substr(start, end - start)), 100u);
    start = end + 1;
  }
  EXPECT_EQ(block.substr(block.size() - 2), "\n\n");
}

TEST(TopView, ComposedFrameNeverScrollsOrWraps) {
  const TopModel model = ModelOf(BusyWindow(40));
  const TerminalSize size{80, 24};
  const std::string frame = ComposeFrame(RenderScreen(model, ViewState{}, 80, 24), size);
  EXPECT_EQ(frame.find('\n'), std::string::npos);
  EXPECT_EQ(frame.find('\r'), std::string::npos);
  EXPECT_NE(frame.find("\x1b[1;1H\x1b[2K"), std::string::npos);
  EXPECT_NE(frame.find("\x1b[24;1H\x1b[2K"), std::string::npos);
  EXPECT_EQ(frame.find("\x1b[25;1H"), std::string::npos);
  // A smaller frame after a larger one still clears every row.
  const std::string sparse = ComposeFrame({{"only", LineStyle::kNormal}}, size);
  EXPECT_NE(sparse.find("\x1b[24;1H\x1b[2K"), std::string::npos);
}

}  // namespace
}  // namespace waitscope::top
