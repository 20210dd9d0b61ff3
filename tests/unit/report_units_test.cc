#include <gtest/gtest.h>

#include <cstdint>
#include <limits>

#include "report/display_text.h"
#include "core/units.h"

namespace waitscope {
namespace {

TEST(ReportUnits, FormatDurationBoundaries) {
  EXPECT_EQ(FormatDuration(0), "0ns");
  EXPECT_EQ(FormatDuration(1), "1ns");
  EXPECT_EQ(FormatDuration(999), "999ns");
  EXPECT_EQ(FormatDuration(1000), "1.00µs");
  EXPECT_EQ(FormatDuration(1500), "1.50µs");
  EXPECT_EQ(FormatDuration(9'994), "9.99µs");
  EXPECT_EQ(FormatDuration(9'996), "10.0µs");  // rounding up changes the digit count
  EXPECT_EQ(FormatDuration(99'940), "99.9µs");
  EXPECT_EQ(FormatDuration(99'960), "100µs");
  EXPECT_EQ(FormatDuration(999'400), "999µs");
  EXPECT_EQ(FormatDuration(999'600), "1.00ms");  // not "1000µs"
  EXPECT_EQ(FormatDuration(1'000'000), "1.00ms");
  EXPECT_EQ(FormatDuration(2'345'678), "2.35ms");
  EXPECT_EQ(FormatDuration(999'999'999), "1.00s");
  EXPECT_EQ(FormatDuration(1'000'000'000), "1.00s");
  EXPECT_EQ(FormatDuration(61'000'000'000), "61.0s");
  EXPECT_EQ(FormatDuration(3'600'000'000'000), "3600s");
  EXPECT_EQ(FormatDuration(std::numeric_limits<std::uint64_t>::max()), "18446744074s");
}

TEST(ReportUnits, FormatSeconds) {
  EXPECT_EQ(FormatSeconds(12.5), "12.5s");
  EXPECT_EQ(FormatSeconds(0.25), "250ms");
  EXPECT_EQ(FormatSeconds(0), "0ns");
  EXPECT_EQ(FormatSeconds(-3), "0ns");
  EXPECT_EQ(FormatSeconds(std::numeric_limits<double>::infinity()), "0ns");
  EXPECT_EQ(FormatSeconds(1e300), "18446744074s");
}

TEST(ReportDisplayText, SanitizeReplacesInvalidUtf8AndControls) {
  EXPECT_EQ(SanitizeForTerminal("plain/path"), "plain/path");
  EXPECT_EQ(SanitizeForTerminal("caf\xc3\xa9"), "caf\xc3\xa9");
  EXPECT_EQ(SanitizeForTerminal("a\xff"
                                "b"),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(SanitizeForTerminal("\xc0\xaf"), "\xEF\xBF\xBD\xEF\xBF\xBD");  // overlong '/'
  EXPECT_EQ(SanitizeForTerminal("\xed\xa0\x80"),
            "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");                         // surrogate
  EXPECT_EQ(SanitizeForTerminal("x\xe2\x82"), "x\xEF\xBF\xBD\xEF\xBF\xBD");  // cut short
  EXPECT_EQ(SanitizeForTerminal("\x1b[31mred\n\t\x7f"), "?[31mred???");
  EXPECT_EQ(SanitizeForTerminal("\xc2\x9b"
                                "1J"),
            "?1J");  // C1 CSI
}

TEST(ReportDisplayText, WidthAndMiddleTruncation) {
  EXPECT_EQ(DisplayWidth("abc"), 3u);
  EXPECT_EQ(DisplayWidth("1.50µs"), 6u);
  EXPECT_EQ(TruncateMiddle("short", 10), "short");
  EXPECT_EQ(TruncateMiddle("abcdefghij", 10), "abcdefghij");
  EXPECT_EQ(TruncateMiddle("abcdefghijk", 10), "abcd…ghijk");
  EXPECT_EQ(DisplayWidth(TruncateMiddle("/very/long/path/to/some/file.db", 12)), 12u);
  EXPECT_EQ(TruncateMiddle("/very/long/path/to/some/file.db", 12), "/very…ile.db");
  EXPECT_EQ(TruncateMiddle("ééééé", 3), "é…é");  // never splits a code point
  EXPECT_EQ(TruncateMiddle("a漢字bc😀", 2), "…😀");  // a 4-byte tail
  EXPECT_EQ(TruncateMiddle("abc", 1), "…");
  EXPECT_EQ(TruncateMiddle("abc", 0), "");
  EXPECT_EQ(PadLeft("µs", 4), "  µs");
  EXPECT_EQ(PadRight("µs", 4), "µs  ");
}

}  // namespace
}  // namespace waitscope
