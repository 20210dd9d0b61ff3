// Helpers behind the export writers: XML text, value formatting, the flame
// tree, gzip and atomic file writes.
#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <fstream>
#include <sstream>

#include "core/atomic_file.h"
#include "core/units.h"
#include "core/utf8.h"
#include "export/flame_tree.h"
#include "export/gzip.h"
#include "export/value_format.h"
#include "export/xml_text.h"

namespace waitscope {
namespace {

const std::string kFffd = "\xEF\xBF\xBD";

TEST(ExportXmlText, KeepsValidUtf8) {
  for (const std::string s : {"plain", "h\xC3\xA9llo", "\xE6\x97\xA5\xE6\x9C\xAC",
                              "\xF0\x9F\x98\x80", "\xF4\x8F\xBF\xBF", "\x7F"}) {
    EXPECT_EQ(SanitizeUtf8ForXml(s), s);
  }
}

TEST(ExportXmlText, ReplacesEachInvalidByte) {
  struct Case {
    std::string in, want;
  };
  for (const Case& c : {
           Case{"a\xFF"
                "b",
                "a" + kFffd + "b"},
           Case{"\xC0\xAF", kFffd + kFffd},                          // overlong '/'
           Case{"\xE0\x80\xAF", kFffd + kFffd + kFffd},              // overlong
           Case{"\xED\xA0\x80", kFffd + kFffd + kFffd},              // surrogate U+D800
           Case{"\xF4\x90\x80\x80", kFffd + kFffd + kFffd + kFffd},  // above U+10FFFF
           Case{"x\xE2\x82", "x" + kFffd + kFffd},                   // cut short
           Case{"\x80", kFffd},                                      // lone continuation
           Case{"\xE2\x82\xAC\xE2", "\xE2\x82\xAC" + kFffd},         // valid then cut
       }) {
    EXPECT_EQ(SanitizeUtf8ForXml(c.in), c.want) << c.in;
  }
}

TEST(ExportXmlText, ReplacesCharactersXmlForbids) {
  EXPECT_EQ(SanitizeUtf8ForXml(std::string("a\0b", 3)), "a" + kFffd + "b");
  EXPECT_EQ(SanitizeUtf8ForXml("\x01\x1F"), kFffd + kFffd);
  EXPECT_EQ(SanitizeUtf8ForXml("a\tb\nc\rd"), "a b c d");
  EXPECT_EQ(SanitizeUtf8ForXml("\xEF\xBF\xBE\xEF\xBF\xBF"), kFffd + kFffd);
}

TEST(ExportXmlText, EscapesMarkup) {
  EXPECT_EQ(XmlEscape("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&apos;");
  EXPECT_EQ(XmlEscape("&amp;"), "&amp;amp;");
  EXPECT_EQ(XmlEscape("<\xFF>"), "&lt;" + kFffd + "&gt;");
}

TEST(ExportXmlText, CountsAndCutsCodePoints) {
  const std::string s = "a\xC3\xA9\xE6\x97\xA5\xF0\x9F\x98\x80z";  // a é 日 😀 z
  EXPECT_EQ(Utf8Length(s), 5u);
  EXPECT_EQ(Utf8Prefix(s, 0), "");
  EXPECT_EQ(Utf8Prefix(s, 2), "a\xC3\xA9");
  EXPECT_EQ(Utf8Prefix(s, 4), "a\xC3\xA9\xE6\x97\xA5\xF0\x9F\x98\x80");
  EXPECT_EQ(Utf8Prefix(s, 5), s);
  EXPECT_EQ(Utf8Prefix(s, 99), s);
}

TEST(ExportValueFormat, NanosecondsUseTheSharedDurationFormat) {
  // The SVG shows durations exactly as report.txt does (core/units.h).
  for (std::uint64_t ns : {0ULL, 999ULL, 1000ULL, 999'600ULL, 12'345'678ULL, 1'500'000'000ULL}) {
    EXPECT_EQ(FormatValue(ns, ValueUnit::kNanoseconds), FormatDuration(ns));
  }
  EXPECT_EQ(FormatValue(12'345'678, ValueUnit::kNanoseconds), "12.3ms");
}

TEST(ExportValueFormat, CountAndFixed) {
  EXPECT_EQ(FormatValue(1234, ValueUnit::kCount), "1234");
  EXPECT_EQ(FormatFixed(45.678, 2), "45.68");
  EXPECT_EQ(FormatFixed(100, 2), "100.00");
  EXPECT_EQ(FormatFixed(0.004, 2), "0.00");
}

TEST(ExportFlameTree, MergesPrefixesAndSortsChildren) {
  const FlameNode root = BuildFlameTree(
      {{{"m", "z"}, 1}, {{"m", "a", "x"}, 2}, {{"b"}, 4}, {{"m", "a"}, 8}, {{"m", "z"}, 16}},
      "all");
  EXPECT_EQ(root.name, "all");
  EXPECT_EQ(root.total, 31u);
  EXPECT_EQ(root.self(), 0u);
  ASSERT_EQ(root.children.size(), 2u);
  EXPECT_EQ(root.children[0].name, "b");
  const FlameNode& m = root.children[1];
  EXPECT_EQ(m.name, "m");
  EXPECT_EQ(m.total, 27u);
  ASSERT_EQ(m.children.size(), 2u);
  EXPECT_EQ(m.children[0].name, "a");
  EXPECT_EQ(m.children[0].total, 10u);
  EXPECT_EQ(m.children[0].self(), 8u);
  EXPECT_EQ(m.children[1].name, "z");
  EXPECT_EQ(m.children[1].total, 17u);
  EXPECT_EQ(FlameTreeDepth(root), 4u);
}

TEST(ExportFlameTree, EmptyStacksCountAtRootAndZerosAreIgnored) {
  const FlameNode root = BuildFlameTree({{{}, 5}, {{"a"}, 0}, {{"b"}, 2}}, "all");
  EXPECT_EQ(root.total, 7u);
  EXPECT_EQ(root.self(), 5u);
  ASSERT_EQ(root.children.size(), 1u);
  EXPECT_EQ(root.children[0].name, "b");
  EXPECT_EQ(FlameTreeDepth(BuildFlameTree({}, "all")), 1u);
}

std::string Inflate(const std::string& in, int window_bits) {
  z_stream zs{};
  if (inflateInit2(&zs, window_bits) != Z_OK) return "<init>";
  std::string out(1 << 20, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  const int rc = inflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  inflateEnd(&zs);
  return rc == Z_STREAM_END ? out : "<error>";
}

TEST(ExportGzip, RoundTripsAndIsGzipFramed) {
  std::string data;
  for (int i = 0; i < 10000; ++i) data += "frame" + std::to_string(i % 97) + ";";
  Result<std::string> gz = GzipCompress(data);
  ASSERT_TRUE(gz.ok());
  EXPECT_LT(gz->size(), data.size() / 4);
  EXPECT_EQ(Inflate(*gz, 15 + 16), data);  // gzip only
  EXPECT_EQ(GzipCompress(data).value(), *gz);
  Result<std::string> empty = GzipCompress("");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(Inflate(*empty, 15 + 16), "");
}

TEST(ExportWriteFile, ReplacesContentAndLeavesNoTemporary) {
  const std::string dir = ::testing::TempDir();
  const std::string path = dir + "/export_write_" + std::to_string(::getpid());
  ASSERT_TRUE(WriteFileAtomically(path, "first, longer content").ok());
  ASSERT_TRUE(WriteFileAtomically(path, std::string("sec\0nd", 6)).ok());
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  EXPECT_EQ(ss.str(), std::string("sec\0nd", 6));
  EXPECT_NE(::access((path + ".tmp." + std::to_string(::getpid())).c_str(), F_OK), 0);
  ::unlink(path.c_str());
}

TEST(ExportWriteFile, ReportsFailureWithPath) {
  Status st = WriteFileAtomically("/nonexistent-waitscope-dir/x", "data");
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("/nonexistent-waitscope-dir/x"), std::string::npos);
}

}  // namespace
}  // namespace waitscope
