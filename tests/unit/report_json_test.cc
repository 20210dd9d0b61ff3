#include "report/report_json.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace waitscope {
namespace {

using nlohmann::json;

Report SampleReport() {
  Report r;
  r.tool_version = "0.1.0-test";
  r.duration_s = 12.5;
  r.min_block_ns = 1'000'000;
  r.targets = {{.pid = 100, .comm = "server", .exe = "/usr/bin/server"},
               {.pid = 101, .comm = "bad\xff", .exe = ""}};
  r.loss = {.events_dropped = 3, .bytes_truncated = 4096, .parse_errors = 7};
  r.waits = {
      {.pid = 100,
       .comm = "server",
       .wait_class = WaitClass::kDisk,
       .syscall = "fsync",
       .target = "/var/lib/a \"quoted\" \\ path",
       .count = 10,
       .total_ns = 5'000'000,
       .max_ns = 900'000},
      {.pid = 101,
       .comm = "bad\xff",
       .wait_class = WaitClass::kNet,
       .syscall = "recvfrom",
       .target = "/tmp/\xc3\x28.sock",
       .count = 2,
       .total_ns = 400,
       .max_ns = 300},
  };
  r.stacks.resize(3);
  return r;
}

TEST(ReportJson, HasEveryContractKeyWithValues) {
  const json j = json::parse(RenderReportJson(SampleReport()));
  EXPECT_EQ(j.at("schema_version"), 1);
  EXPECT_EQ(j.at("tool").at("name"), "waitscope");
  EXPECT_EQ(j.at("tool").at("version"), "0.1.0-test");
  EXPECT_DOUBLE_EQ(j.at("duration_s").get<double>(), 12.5);

  ASSERT_EQ(j.at("targets").size(), 2u);
  EXPECT_EQ(j["targets"][0].at("pid"), 100);
  EXPECT_EQ(j["targets"][0].at("comm"), "server");
  EXPECT_EQ(j["targets"][0].at("exe"), "/usr/bin/server");
  EXPECT_EQ(j["targets"][1].at("pid"), 101);
  EXPECT_FALSE(j["targets"][1].contains("exe")) << "exe is omitted when unknown";

  EXPECT_EQ(j.at("loss").at("events_dropped"), 3);
  EXPECT_EQ(j.at("loss").at("bytes_truncated"), 4096);
  EXPECT_EQ(j.at("loss").at("parse_errors"), 7);

  ASSERT_EQ(j.at("waits").size(), 2u);
  const json& w = j["waits"][0];
  EXPECT_EQ(w.at("pid"), 100);
  EXPECT_EQ(w.at("comm"), "server");
  EXPECT_EQ(w.at("class"), "disk");
  EXPECT_EQ(w.at("syscall"), "fsync");
  EXPECT_EQ(w.at("target"), "/var/lib/a \"quoted\" \\ path");
  EXPECT_EQ(w.at("count"), 10);
  EXPECT_EQ(w.at("total_ns"), 5'000'000);
  EXPECT_EQ(w.at("max_ns"), 900'000);
  EXPECT_EQ(j["waits"][1].at("class"), "net");
  EXPECT_EQ(j["waits"][1].at("total_ns"), 400);

  for (const char* key : {"connections", "queries", "cache", "tls", "http", "findings"}) {
    ASSERT_TRUE(j.contains(key)) << key;
    EXPECT_TRUE(j[key].is_array()) << key;
    EXPECT_TRUE(j[key].empty()) << key;
  }
  EXPECT_EQ(j.at("recording").at("min_block_ns"), 1'000'000);
  EXPECT_EQ(j.at("recording").at("stacks"), 3);
}

TEST(ReportJson, TlsFindingsAndBreakdownRows) {
  Report r;
  r.tls.push_back(
      {.pid = 7,
       .server = true,
       .peer = "127.0.0.1:0",
       .version = "TLSv1.3",
       .resumed = true,
       .count = 3,
       .failures = 1,
       .handshake_us = {.count = 2, .mean = 10, .p50 = 9, .p95 = 11, .p99 = 11, .max = 11},
       .round_trips = 1,
       .plaintext = true});
  r.http.push_back(
      {.pid = 7,
       .server = true,
       .endpoint = "GET /x",
       .count = 1,
       .breakdown_us = {
           .cpu = 1.5, .db = 2, .net = 3, .disk = 4, .lock = 5, .tls = 6, .other = -1}});
  r.findings.push_back({.kind = "n_plus_one",
                        .severity = Severity::kCritical,
                        .pid = 7,
                        .endpoint = "GET /x",
                        .summary = "s",
                        .evidence_json = R"({"repeats_per_request": 10})"});
  r.findings.push_back({.kind = "slow_query", .pid = 7, .summary = "t", .evidence_json = "[1]"});
  const json j = json::parse(RenderReportJson(r));
  const json& t = j.at("tls").at(0);
  EXPECT_EQ(t.at("role"), "server");
  EXPECT_EQ(t.at("version"), "TLSv1.3");
  EXPECT_EQ(t.at("resumed"), true);
  EXPECT_EQ(t.at("failures"), 1);
  EXPECT_EQ(t.at("handshake_us").at("p95"), 11);
  EXPECT_EQ(t.at("plaintext"), true);
  const json& b = j.at("http").at(0).at("breakdown_us");
  EXPECT_EQ(b.at("cpu"), 1.5);
  EXPECT_EQ(b.at("tls"), 6);
  EXPECT_EQ(b.at("other"), 0) << "negative means are written as 0";
  const json& f = j.at("findings").at(0);
  EXPECT_EQ(f.at("severity"), "critical");
  EXPECT_EQ(f.at("endpoint"), "GET /x");
  EXPECT_EQ(f.at("evidence").at("repeats_per_request"), 10);
  EXPECT_FALSE(j["findings"][1].contains("endpoint"));
  EXPECT_TRUE(j["findings"][1].at("evidence").is_object()) << "bad evidence still an object";
}

TEST(ReportJson, InvalidUtf8IsReplacedNotFatal) {
  const json j = json::parse(RenderReportJson(SampleReport()));
  EXPECT_EQ(j["targets"][1]["comm"], "bad\xEF\xBF\xBD");
  EXPECT_EQ(j["waits"][1]["comm"], "bad\xEF\xBF\xBD");
  // \xc3 starts a 2-byte sequence that '(' does not continue.
  EXPECT_EQ(j["waits"][1]["target"], "/tmp/\xEF\xBF\xBD(.sock");
}

TEST(ReportJson, EmptyReportStillHasAllKeys) {
  const json j = json::parse(RenderReportJson(Report{}));
  for (const char* key : {"schema_version", "tool", "duration_s", "targets", "loss", "waits",
                          "connections", "queries", "cache", "tls", "http", "findings"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
  EXPECT_TRUE(j["targets"].is_array());
  EXPECT_TRUE(j["waits"].is_array());
  EXPECT_EQ(j["tool"]["version"], "");
  EXPECT_EQ(j["loss"]["events_dropped"], 0);
  EXPECT_EQ(j["recording"]["stacks"], 0);
}

TEST(ReportJson, UnixSocketRowsGoUnderUnixSocketsNotTheContractArrays) {
  Report r;
  r.connections.push_back({.pid = 1, .peer = "127.0.0.1:5432", .protocol = "postgres"});
  r.connections.push_back(
      {.pid = 1, .peer = "unix:/run/postgresql/.s.PGSQL.5432", .protocol = "postgres"});
  r.queries.push_back({.pid = 1, .protocol = "redis", .peer = "unix:@cache", .statement = "GET"});
  r.cache.push_back({.pid = 1, .protocol = "redis", .peer = "unix:@cache", .reads = 2});
  const json j = json::parse(RenderReportJson(r));
  ASSERT_EQ(j["connections"].size(), 1u);
  EXPECT_EQ(j["connections"][0]["peer"], "127.0.0.1:5432");
  EXPECT_TRUE(j["queries"].empty());
  EXPECT_TRUE(j["cache"].empty());
  const json& u = j["unix_sockets"];
  ASSERT_EQ(u["connections"].size(), 1u);
  EXPECT_EQ(u["connections"][0]["peer"], "unix:/run/postgresql/.s.PGSQL.5432");
  ASSERT_EQ(u["queries"].size(), 1u);
  EXPECT_EQ(u["queries"][0]["statement"], "GET");
  EXPECT_EQ(u["cache"][0]["reads"], 2);
  EXPECT_TRUE(u["tls"].empty());
}

TEST(ReportJson, NonFiniteDurationIsWrittenAsZero) {
  Report r;
  r.duration_s = std::numeric_limits<double>::quiet_NaN();
  EXPECT_EQ(json::parse(RenderReportJson(r))["duration_s"], 0);
  r.duration_s = -1;
  EXPECT_EQ(json::parse(RenderReportJson(r))["duration_s"], 0);
}

TEST(ReportJson, KeysFollowContractOrderAndTwoSpaceIndent) {
  const std::string text = RenderReportJson(SampleReport());
  EXPECT_EQ(text.rfind("{\n  \"schema_version\": 1,\n  \"tool\": {\n    \"name\"", 0), 0u) << text;
  EXPECT_LT(text.find("\"loss\""), text.find("\"waits\""));
  EXPECT_LT(text.find("\"waits\""), text.find("\"findings\""));
}

class ReportJsonFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("ws_report_json_test." + std::to_string(getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

std::string ReadAll(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST_F(ReportJsonFile, WritesRenderedJsonAndReplacesOldFile) {
  const auto path = dir_ / "report.json";
  { std::ofstream(path) << "old contents that are longer than nothing"; }
  const Status st = WriteReportJson(SampleReport(), path.string());
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_EQ(ReadAll(path), RenderReportJson(SampleReport()) + "\n");
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir_), {}), 1)
      << "no temporary file left behind";
  const auto perms = std::filesystem::status(path).permissions();
  EXPECT_NE(perms & std::filesystem::perms::others_read, std::filesystem::perms::none);
}

TEST_F(ReportJsonFile, MissingDirectoryIsAnErrorNamingThePath) {
  const auto path = dir_ / "no" / "such" / "report.json";
  const Status st = WriteReportJson(SampleReport(), path.string());
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find(path.string()), std::string::npos) << st.error().message;
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST_F(ReportJsonFile, EmptyPathIsAnError) {
  EXPECT_FALSE(WriteReportJson(Report{}, "").ok());
}

}  // namespace
}  // namespace waitscope
