#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>

#include "export/folded.h"

namespace waitscope {
namespace {

using Totals = std::map<std::vector<std::string>, std::uint64_t>;

Totals SumByStack(const std::vector<FoldedStack>& stacks) {
  Totals t;
  for (const FoldedStack& s : stacks) t[s.frames] += s.value;
  return t;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(ExportFolded, MergesDuplicatesAndSortsLines) {
  const std::vector<FoldedStack> stacks = {
      {{"main", "serve", "read"}, 5},
      {{"main", "accept"}, 7},
      {{"main", "serve", "read"}, 10},
      {{"idle"}, 1},
  };
  EXPECT_EQ(FoldedToString(stacks), "idle 1\nmain;accept 7\nmain;serve;read 15\n");
}

TEST(ExportFolded, OutputDoesNotDependOnInputOrder) {
  std::vector<FoldedStack> stacks = {{{"b", "x"}, 1}, {{"a"}, 2}, {{"b"}, 3}, {{"a", "z"}, 4}};
  const std::string first = FoldedToString(stacks);
  std::reverse(stacks.begin(), stacks.end());
  EXPECT_EQ(FoldedToString(stacks), first);
}

TEST(ExportFolded, SanitizesSeparatorsInFrameNames) {
  EXPECT_EQ(SanitizeFoldedFrame("std::map<a;b>"), "std::map<a:b>");
  EXPECT_EQ(SanitizeFoldedFrame("line1\nline2\r"), "line1 line2 ");
  EXPECT_EQ(SanitizeFoldedFrame("plain name (x)"), "plain name (x)");

  const std::string text = FoldedToString({{{"a;b", "c\nd"}, 3}});
  EXPECT_EQ(text, "a:b;c d 3\n");
  Result<std::vector<FoldedStack>> parsed = ParseFolded(text);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  ASSERT_EQ(parsed->size(), 1u);
  EXPECT_EQ((*parsed)[0].frames, (std::vector<std::string>{"a:b", "c d"}));
}

TEST(ExportFolded, StacksThatCollideAfterSanitizingAreMerged) {
  EXPECT_EQ(FoldedToString({{{"a;b"}, 1}, {{"a:b"}, 2}}), "a:b 3\n");
}

TEST(ExportFolded, DropsEmptyStacksAndZeroValues) {
  EXPECT_EQ(FoldedToString({{{}, 9}, {{"a"}, 0}, {{"b"}, 1}}), "b 1\n");
  EXPECT_EQ(FoldedToString({}), "");
}

TEST(ExportFolded, MergedValuesSaturate) {
  const std::uint64_t max = std::numeric_limits<std::uint64_t>::max();
  EXPECT_EQ(FoldedToString({{{"a"}, max - 1}, {{"a"}, 5}}), "a " + std::to_string(max) + "\n");
}

TEST(ExportFolded, RoundTripKeepsTotals) {
  std::vector<FoldedStack> stacks;
  // A spread of depths, shared prefixes, duplicates and names with spaces.
  for (int i = 0; i < 200; ++i) {
    FoldedStack s;
    s.frames.push_back(i % 3 == 0 ? "proc a" : "proc b");
    for (int d = 0; d < i % 7; ++d) s.frames.push_back("f" + std::to_string((i * 31 + d) % 11));
    s.value = static_cast<std::uint64_t>(i % 13 + 1) * 1000;
    stacks.push_back(s);
  }
  Result<std::vector<FoldedStack>> parsed = ParseFolded(FoldedToString(stacks));
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  const Totals want = SumByStack(stacks);
  EXPECT_EQ(SumByStack(*parsed), want);
  // Merged: one line per unique stack.
  EXPECT_EQ(parsed->size(), want.size());
  EXPECT_LT(parsed->size(), stacks.size());
}

TEST(ExportFolded, ParseAcceptsCrlfBlankLinesAndSpacesInFrames) {
  Result<std::vector<FoldedStack>> parsed = ParseFolded("a b;c d 5\r\n\r\n\nx 1");
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  ASSERT_EQ(parsed->size(), 2u);
  EXPECT_EQ((*parsed)[0].frames, (std::vector<std::string>{"a b", "c d"}));
  EXPECT_EQ((*parsed)[0].value, 5u);
  EXPECT_EQ((*parsed)[1].frames, (std::vector<std::string>{"x"}));
  EXPECT_EQ((*parsed)[1].value, 1u);
}

TEST(ExportFolded, ParseDoesNotMergeDuplicates) {
  Result<std::vector<FoldedStack>> parsed = ParseFolded("a 1\na 2\n");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->size(), 2u);
}

TEST(ExportFolded, ParseRejectsBadLinesAndNamesTheLine) {
  struct Case {
    const char* text;
    const char* line;
  };
  for (const Case& c :
       {Case{"a 1\nnovalue\n", "line 2"}, Case{"a;b x\n", "line 1"},
        Case{"a 1\n\na -3\n", "line 3"}, Case{"a 18446744073709551616\n", "line 1"},
        Case{"a 12abc\n", "line 1"}, Case{"a \n", "line 1"}, Case{" 5\n", "line 1"}}) {
    Result<std::vector<FoldedStack>> parsed = ParseFolded(c.text);
    ASSERT_FALSE(parsed.ok()) << c.text;
    EXPECT_NE(parsed.error().message.find(c.line), std::string::npos)
        << c.text << " -> " << parsed.error().message;
  }
}

TEST(ExportFolded, ParseAcceptsLargestValue) {
  Result<std::vector<FoldedStack>> parsed = ParseFolded("a 18446744073709551615\n");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ((*parsed)[0].value, std::numeric_limits<std::uint64_t>::max());
}

TEST(ExportFolded, WriteFoldedWritesTheSameTextToAFile) {
  const std::vector<FoldedStack> stacks = {{{"main", "read"}, 4}, {{"main"}, 2}};
  const std::string path =
      ::testing::TempDir() + "/export_folded_" + std::to_string(::getpid()) + ".folded";
  ASSERT_TRUE(WriteFolded(stacks, path).ok());
  EXPECT_EQ(ReadAll(path), FoldedToString(stacks));
  // Overwriting replaces the content.
  ASSERT_TRUE(WriteFolded({{{"x"}, 1}}, path).ok());
  EXPECT_EQ(ReadAll(path), "x 1\n");
  ::unlink(path.c_str());
}

TEST(ExportFolded, WriteFoldedReportsUnwritablePath) {
  const std::string path = ::testing::TempDir() + "/no-such-dir-waitscope/out.folded";
  Status st = WriteFolded({{{"a"}, 1}}, path);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("no-such-dir-waitscope"), std::string::npos);
}

}  // namespace
}  // namespace waitscope
