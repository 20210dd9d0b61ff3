#include "report/report_text.h"

#include <gtest/gtest.h>

#include <sstream>
#include <vector>

#include "report/display_text.h"

namespace waitscope {
namespace {

WaitRow Row(std::uint32_t pid, WaitClass c, std::string syscall, std::string target,
            std::uint64_t count, std::uint64_t total_ns, std::uint64_t max_ns) {
  return {.pid = pid,
          .comm = "app",
          .wait_class = c,
          .syscall = std::move(syscall),
          .target = std::move(target),
          .count = count,
          .total_ns = total_ns,
          .max_ns = max_ns};
}

Report SampleReport() {
  Report r;
  r.tool_version = "0.1.0";
  r.duration_s = 10;
  r.min_block_ns = 1'000'000;
  r.targets = {{.pid = 42, .comm = "app", .exe = "/usr/bin/app"}};
  // Deliberately not in total-time order: the text must sort.
  r.waits = {
      Row(42, WaitClass::kNet, "recvfrom", "10.0.0.5:5432", 100, 2'000'000'000, 90'000'000),
      Row(42, WaitClass::kDisk, "fsync", "/var/lib/app/journal", 40, 6'000'000'000, 400'000'000),
      Row(42, WaitClass::kDisk, "read", "/etc/app.conf", 5, 1'000'000'000, 500'000'000),
      Row(42, WaitClass::kLock, "futex", "-", 7, 1'000'000'000, 300'000'000),
  };
  return r;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// Index of the first line containing all of `needles`, or -1.
int FindLine(const std::vector<std::string>& lines, std::initializer_list<std::string> needles,
             int from = 0) {
  for (int i = from; i < static_cast<int>(lines.size()); ++i) {
    bool all = true;
    for (const std::string& n : needles) all = all && lines[i].find(n) != std::string::npos;
    if (all) return i;
  }
  return -1;
}

TEST(ReportText, HeaderAndLossLine) {
  const auto lines = Lines(RenderReportText(SampleReport()));
  ASSERT_GE(lines.size(), 3u);
  EXPECT_EQ(lines[0], "waitscope 0.1.0: recorded 10.0s");
  EXPECT_EQ(lines[1], "targets: app (42)");
  EXPECT_EQ(lines[2], "loss: no events lost");

  Report lossy = SampleReport();
  lossy.loss = {.events_dropped = 12, .bytes_truncated = 0, .parse_errors = 3};
  const std::string text = RenderReportText(lossy);
  EXPECT_NE(text.find("12 events dropped, 0 bytes truncated, 3 parse errors"), std::string::npos)
      << text;
  EXPECT_EQ(text.find("no events lost"), std::string::npos);
}

TEST(ReportText, ClassTotalsAreSummedAndSorted) {
  const auto lines = Lines(RenderReportText(SampleReport()));
  const int title = FindLine(lines, {"Blocked time by class"});
  ASSERT_GE(title, 0);
  const int disk = FindLine(lines, {"disk", "7.00s", "70.0%", "45"}, title);
  const int net = FindLine(lines, {"net", "2.00s", "20.0%", "100"}, title);
  const int lock = FindLine(lines, {"lock", "1.00s", "10.0%", "7"}, title);
  ASSERT_GE(disk, 0);
  ASSERT_GE(net, 0);
  ASSERT_GE(lock, 0);
  EXPECT_LT(disk, net);
  EXPECT_LT(net, lock);
}

TEST(ReportText, TopWaitsInTotalTimeOrderWithMeanAndMax) {
  const std::string text = RenderReportText(SampleReport());
  const auto lines = Lines(text);
  const int title = FindLine(lines, {"by total time"});
  ASSERT_GE(title, 0) << text;
  const int header =
      FindLine(lines, {"class", "syscall", "target", "count", "total", "mean", "max"}, title);
  ASSERT_EQ(header, title + 1) << text;
  EXPECT_NE(
      FindLine(lines, {"disk", "fsync", "/var/lib/app/journal", "40", "6.00s", "150ms", "400ms"}),
      -1)
      << text;
  EXPECT_EQ(FindLine(lines, {"fsync"}, title), header + 1);
  EXPECT_EQ(FindLine(lines, {"recvfrom", "10.0.0.5:5432", "20.0ms"}, title), header + 2);
  // Ties keep input order: read before futex.
  EXPECT_EQ(FindLine(lines, {"read", "/etc/app.conf", "200ms"}, title), header + 3);
  EXPECT_EQ(FindLine(lines, {"futex"}, title), header + 4);
  EXPECT_EQ(FindLine(lines, {"process"}), -1) << "single pid: no process column";
}

TEST(ReportText, ColumnsAreAligned) {
  const auto lines = Lines(RenderReportText(SampleReport()));
  const int header = FindLine(lines, {"syscall", "target"});
  ASSERT_GE(header, 0);
  const std::size_t target_col = lines[header].find("target");
  EXPECT_EQ(lines[header + 1].find("/var/lib/app/journal"), target_col);
  EXPECT_EQ(lines[header + 2].find("10.0.0.5:5432"), target_col);
  // Right-aligned numbers end in the same column as the "max" header.
  const std::size_t end = DisplayWidth(lines[header]);
  for (int i = header + 1; i <= header + 4; ++i) EXPECT_EQ(DisplayWidth(lines[i]), end) << lines[i];
}

TEST(ReportText, TopNLimitsRows) {
  Report r = SampleReport();
  const std::string text = RenderReportText(r, {.top_n = 2});
  EXPECT_NE(text.find("Top 2 of 4 waits by total time"), std::string::npos) << text;
  EXPECT_NE(text.find("recvfrom"), std::string::npos);
  EXPECT_EQ(text.find("/etc/app.conf"), std::string::npos);
  EXPECT_EQ(text.find("futex"), std::string::npos);
}

TEST(ReportText, FitsIn100ColumnsAndTruncatesLongTargetsInTheMiddle) {
  Report r = SampleReport();
  const std::string long_path = "/srv/data/" + std::string(150, 'x') + "/segment-000042.log";
  r.waits.push_back(Row(42, WaitClass::kDisk, "pwrite64", long_path, 3, 9'000'000'000, 1));
  r.waits.push_back(
      Row(43, WaitClass::kPipe, "a_very_long_syscall_name_indeed", "pipe:[1]", 1, 5, 5));
  r.targets.push_back({.pid = 43, .comm = "worker", .exe = ""});
  const std::string text = RenderReportText(r);
  for (const std::string& line : Lines(text)) EXPECT_LE(DisplayWidth(line), 100u) << line;
  EXPECT_EQ(text.find(long_path), std::string::npos);
  EXPECT_NE(text.find("/srv/data/x"), std::string::npos) << text;
  EXPECT_NE(text.find("…"), std::string::npos);
  EXPECT_NE(text.find("000042.log"), std::string::npos) << "file name is kept";
  EXPECT_NE(text.find("app (42)"), std::string::npos);
  EXPECT_NE(text.find("process"), std::string::npos) << "two pids: process column";
  EXPECT_NE(text.find("<0.1%"), std::string::npos) << "tiny shares are not shown as 0.0%";
}

TEST(ReportText, ManyTargetsStayOnOneLine) {
  Report r = SampleReport();
  for (std::uint32_t pid = 1000; pid < 1100; ++pid) {
    r.targets.push_back({.pid = pid, .comm = "child", .exe = ""});
  }
  const auto lines = Lines(RenderReportText(r));
  EXPECT_LE(DisplayWidth(lines[1]), 100u) << lines[1];
  EXPECT_NE(lines[1].find("more"), std::string::npos) << lines[1];
}

TEST(ReportText, UntrustedNamesCannotReachTheTerminalRaw) {
  Report r = SampleReport();
  r.targets[0].comm = "ev\x1b[2Jil\xff";
  r.waits[0].target = "/tmp/\x1b]0;title\x07\n.sock";
  const std::string text = RenderReportText(r);
  EXPECT_EQ(text.find('\x1b'), std::string::npos);
  EXPECT_EQ(text.find('\x07'), std::string::npos);
  EXPECT_EQ(text.find('\xff'), std::string::npos);
  EXPECT_NE(text.find("ev?[2Jil\xEF\xBF\xBD (42)"), std::string::npos) << text;
}

TEST(ReportText, EmptyRecordingExplainsWhy) {
  Report r = SampleReport();
  r.waits.clear();
  const std::string text = RenderReportText(r);
  EXPECT_NE(text.find("No blocking waits were seen"), std::string::npos) << text;
  EXPECT_NE(text.find("pid"), std::string::npos);
  EXPECT_NE(text.find("42"), std::string::npos);
  // --min-block only decides which waits get a stack: no reason to lower it.
  EXPECT_EQ(text.find("--min-block"), std::string::npos) << text;
  EXPECT_NE(text.find("still going on when the recording stops"), std::string::npos) << text;
  EXPECT_NE(text.find("idle"), std::string::npos);
  EXPECT_EQ(text.find("Blocked time by class"), std::string::npos);

  const std::string none = RenderReportText(Report{});
  EXPECT_NE(none.find("targets: none"), std::string::npos) << none;
  EXPECT_NE(none.find("check the pid"), std::string::npos) << none;
}

TEST(ReportText, FindingsComeFirstWrappedToTheWidth) {
  Report r = SampleReport();
  r.findings.push_back(
      {.kind = "sync_io_in_request_path",
       .severity = Severity::kCritical,
       .pid = 42,
       .endpoint = "POST /signup",
       .summary = "POST /signup spends 1.2 s of its 1.3 s p50 blocked in a synchronous call to "
                  "127.0.0.1:2525 on the request thread: move it to a background queue"});
  r.tls.push_back({.pid = 42, .peer = "127.0.0.1:8443", .version = "TLSv1.2", .count = 7});
  const std::string text = RenderReportText(r, {.max_width = 60});
  const std::size_t findings = text.find("Findings (most costly first):");
  ASSERT_NE(findings, std::string::npos) << text;
  EXPECT_LT(findings, text.find("Blocked time by class"));
  EXPECT_NE(text.find("[critical] sync_io_in_request_path - POST /signup (pid 42)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("TLS handshakes:"), std::string::npos) << text;
  const std::string block = text.substr(findings, text.find("\n\n", findings) - findings);
  for (const std::string& line : Lines(block)) EXPECT_LE(DisplayWidth(line), 60u) << line;
  for (const std::string& line : Lines(RenderReportText(r))) {
    EXPECT_LE(DisplayWidth(line), 100u) << line;
  }
}

TEST(ReportText, AServersClientsShowAnyPortNotPortZero) {
  Report r = SampleReport();
  r.queries.push_back({.pid = 42,
                       .protocol = "postgres",
                       .peer = "127.0.0.1:0",
                       .statement = "SELECT ?",
                       .count = 3});
  r.tls.push_back({.pid = 42, .server = true, .peer = "[::1]:0", .version = "TLSv1.3", .count = 2});
  r.tls.push_back({.pid = 42, .peer = "10.0.0.9:8443", .version = "TLSv1.3", .count = 1});
  r.cache.push_back({.pid = 42, .protocol = "redis", .peer = "unix:/run/redis.sock:0", .reads = 1});
  const std::string text = RenderReportText(r);
  EXPECT_NE(text.find("127.0.0.1:*"), std::string::npos) << text;
  EXPECT_NE(text.find("[::1]:*"), std::string::npos) << text;
  EXPECT_NE(text.find("10.0.0.9:8443"), std::string::npos) << text;
  EXPECT_EQ(text.find("127.0.0.1:0"), std::string::npos) << text;
  // A UNIX socket's path is a path, whatever it ends with.
  EXPECT_NE(text.find("unix:/run/redis.sock:0"), std::string::npos) << text;
}

TEST(ReportText, WriteFailsCleanlyOnBadPath) {
  const Status st = WriteReportText(SampleReport(), {}, "/nonexistent-dir-ws/report.txt");
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("/nonexistent-dir-ws/report.txt"), std::string::npos);
}

}  // namespace
}  // namespace waitscope
