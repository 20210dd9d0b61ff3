// `waitscope top` model (windows into totals), keys and short formats.
#include "top/top_model.h"

#include <gtest/gtest.h>

#include "report/display_text.h"
#include "top/top_format.h"
#include "top/top_keys.h"
#include "top/top_test_reports.h"

namespace waitscope::top {
namespace {

using testing::Wait;

TEST(TopModel, WindowsAddIntoTotalsAndWindowValuesReset) {
  TopModel model;
  Report first;
  first.duration_s = 1;
  first.waits.push_back(Wait(5, "app", WaitClass::kDisk, 4, 40'000'000));
  first.queries.push_back(testing::Query(5, "SELECT 1", 10, 800));
  model.AddWindow(first, {100, 0, 1}, 1.0);
  Report quiet;
  quiet.duration_s = 1;
  model.AddWindow(quiet, {150, 2, 1}, 2.0);

  const ProcessStats& p = model.processes().at(5);
  EXPECT_EQ(p.comm, "app");
  EXPECT_EQ(p.blocked_total_ns.window, 0u);
  EXPECT_EQ(p.blocked_total_ns.total, 40'000'000u);
  EXPECT_EQ(p.waits.total, 4u);
  EXPECT_EQ(p.blocked_ns[static_cast<std::size_t>(WaitClass::kDisk)].total, 40'000'000u);
  const StatementStats& s = model.statements().begin()->second;
  EXPECT_EQ(s.calls.window, 0u);
  EXPECT_EQ(s.calls.total, 10u);
  EXPECT_DOUBLE_EQ(s.latency.p95, 800) << "a quiet window keeps the latest quantiles";
  EXPECT_DOUBLE_EQ(model.events_per_s(), 50);
  EXPECT_EQ(model.health().dropped, 2u);
  EXPECT_EQ(model.windows(), 2u);
}

TEST(TopModel, FindingsAreForgottenAfterAMinute) {
  TopModel model;
  Report with;
  with.findings.push_back(testing::Finding(1, "slow_query", "slow"));
  model.AddWindow(with, {}, 1.0);
  model.AddWindow(Report{}, {}, 30.0);
  EXPECT_EQ(model.findings().size(), 1u);
  model.AddWindow(Report{}, {}, 1.0 + kFindingMemoryS + 1);
  EXPECT_TRUE(model.findings().empty());
}

TEST(TopModel, TablesStayBounded) {
  TopModel model;
  for (int w = 0; w < 3; ++w) {
    Report r;
    for (std::uint32_t i = 0; i < kMaxRowsPerTable; ++i) {
      r.waits.push_back(
          Wait(static_cast<std::uint32_t>(w) * 100000 + i, "p", WaitClass::kPoll, 1, 1));
    }
    model.AddWindow(r, {}, 1.0 + w);
  }
  EXPECT_EQ(model.processes().size(), kMaxRowsPerTable);
  EXPECT_TRUE(model.processes().count(2 * 100000)) << "the newest rows are kept";
}

TEST(TopKeys, ParsesKeysAndSkipsEscapeSequences) {
  std::vector<Key> keys = ParseKeys("\x1b[A\x1b[1;5Cs\t3+-\x1bOPq");
  ASSERT_EQ(keys.size(), 6u);
  EXPECT_EQ(keys[0].action, KeyAction::kNextSort);
  EXPECT_EQ(keys[1].action, KeyAction::kNextFocus);
  EXPECT_EQ(keys[2].action, KeyAction::kFocus);
  EXPECT_EQ(keys[2].section, Section::kStatements);
  EXPECT_EQ(keys[3].action, KeyAction::kSlower);
  EXPECT_EQ(keys[4].action, KeyAction::kFaster);
  EXPECT_EQ(keys[5].action, KeyAction::kQuit);
  EXPECT_EQ(ParseKeys("\x1b[Z")[0].action, KeyAction::kPrevFocus);
  EXPECT_TRUE(ParseKeys("xyz9\x1b").empty());
}

TEST(TopKeys, ApplyCyclesSortFocusAndInterval) {
  ViewState view;
  EXPECT_TRUE(ApplyKey({KeyAction::kNextSort}, view));
  EXPECT_EQ(view.sort, SortKey::kCount);
  ApplyKey({KeyAction::kNextSort}, view);
  ApplyKey({KeyAction::kNextSort}, view);
  ApplyKey({KeyAction::kNextSort}, view);
  EXPECT_EQ(view.sort, SortKey::kTime) << "wraps around";
  ApplyKey({KeyAction::kPrevSort}, view);
  EXPECT_EQ(view.sort, SortKey::kName);
  ApplyKey({KeyAction::kPrevFocus}, view);
  EXPECT_EQ(view.focus, Section::kFindings);
  ApplyKey({KeyAction::kNextFocus}, view);
  EXPECT_EQ(view.focus, Section::kProcesses);
  ApplyKey({KeyAction::kSlower}, view);
  EXPECT_DOUBLE_EQ(view.interval_s, 2);
  ApplyKey({KeyAction::kFaster}, view);
  ApplyKey({KeyAction::kFaster}, view);
  EXPECT_DOUBLE_EQ(view.interval_s, 0.5);
  for (int i = 0; i < 5; ++i) ApplyKey({KeyAction::kFaster}, view);
  EXPECT_DOUBLE_EQ(view.interval_s, 0.25) << "stops at the shortest step";
  EXPECT_FALSE(ApplyKey({KeyAction::kQuit}, view));
}

TEST(TopFormat, ShortNumbers) {
  EXPECT_EQ(FormatCount(0), "0");
  EXPECT_EQ(FormatCount(2.5), "2.5");
  EXPECT_EQ(FormatCount(999), "999");
  EXPECT_EQ(FormatCount(12'345), "12.3k");
  EXPECT_EQ(FormatCount(4'200'000), "4.20M");
  EXPECT_EQ(FormatCount(999'999), "1.00M");
  EXPECT_EQ(FormatRate(30, 2.0), "15");
  EXPECT_EQ(FormatTimeRate(850'000'000, 1.0), "850ms");
  EXPECT_EQ(FormatMicros(1500, 0), "-");
  EXPECT_EQ(FormatMicros(1500, 3), "1.50ms");
  EXPECT_EQ(FormatUptime(725), "12m05s");
  EXPECT_EQ(FormatUptime(3 * 3600 + 7 * 60), "3h07m");
  EXPECT_EQ(FormatPercent(62.4), "62%");
}

TEST(TopFormat, TruncateEndKeepsWidth) {
  EXPECT_EQ(TruncateEnd("abcdef", 6), "abcdef");
  EXPECT_EQ(TruncateEnd("abcdef", 4), "abc\xE2\x80\xA6");
  EXPECT_EQ(TruncateEnd("\xC2\xB5\xC2\xB5\xC2\xB5", 2), "\xC2\xB5\xE2\x80\xA6");
  EXPECT_EQ(TruncateEnd("abc", 0), "");
  EXPECT_EQ(DisplayWidth(TruncateEnd("SELECT * FROM t WHERE id = ?", 10)), 10u);
}

}  // namespace
}  // namespace waitscope::top
