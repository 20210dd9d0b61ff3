// Request-path profile: folded layout, aggregation, the node cap, the three
// files, and the text tree.
#include "findings/request_profiles.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "export/folded.h"
#include "findings/request_tree_text.h"
#include "record_builder.h"
#include "report/display_text.h"

namespace waitscope::findings {
namespace {

using testing::kMs;
using testing::RequestBuilder;

RequestRecord Signup(std::uint64_t start) {
  return RequestBuilder("POST /signup", start)
      .Cpu(10 * kMs)
      .Stack({"main", "handle", "execute"})
      .Query("INSERT INTO users VALUES (?)", 5 * kMs)
      .Stack({"main", "handle", "sendmail"})
      .Wait(WaitClass::kNet, "recvfrom", "127.0.0.1:2525", 100 * kMs)
      .Stack({})
      .Wait(WaitClass::kSleep, "clock_nanosleep", "-", kMs)
      .Lock(2 * kMs)
      .Wait(WaitClass::kDisk, "fsync", "/var/lib/app/journal", 3 * kMs)
      .Build();
}

std::string FoldedText(const RequestProfileData& d) {
  return FoldedToString(d.Folded());
}

TEST(RequestProfilesTest, FoldedLayoutAndSums) {
  RequestProfileData data;
  data.AddRequest(Signup(0));
  data.AddRequest(Signup(200 * kMs));
  EXPECT_EQ(FoldedText(data),
            "POST /signup;cpu 20000000\n"
            "POST /signup;db;INSERT INTO users VALUES (?);main;handle;execute 10000000\n"
            "POST /signup;disk;/var/lib/app/journal 6000000\n"
            "POST /signup;lock;futex 4000000\n"
            "POST /signup;net;127.0.0.1:2525;main;handle;sendmail 200000000\n"
            "POST /signup;other;sleep clock_nanosleep 2000000\n");
  EXPECT_EQ(data.nodes()[RequestProfileData::kRoot].total_ns, 2 * 121 * kMs);
  EXPECT_EQ(data.overflow_ns(), 0u);
}

TEST(RequestProfilesTest, UnattributedRequestsAreLeftOut) {
  RequestProfileData data;
  data.AddRequest(RequestBuilder("GET /loop", 0).Cpu(kMs).Unattributed().Build());
  EXPECT_TRUE(data.empty());
  EXPECT_EQ(RenderRequestTree(data), "");
}

TEST(RequestProfilesTest, NodeCapSendsTheRestToOther) {
  RequestProfileData capped(12);
  std::uint64_t total = 0;
  for (int i = 0; i < 50; ++i) {
    const RequestRecord r = RequestBuilder("GET /f" + std::to_string(i % 5), 0)
                                .Cpu(kMs)
                                .Wait(WaitClass::kDisk, "write", "/tmp/f" + std::to_string(i), kMs)
                                .Build();
    total += r.duration_ns();
    capped.AddRequest(r);
  }
  EXPECT_LE(capped.nodes().size(), 24u);
  EXPECT_EQ(capped.nodes()[RequestProfileData::kRoot].total_ns, total);
  EXPECT_GT(capped.overflow_ns(), 0u);
  std::uint64_t folded_sum = 0;
  bool other = false;
  for (const FoldedStack& s : capped.Folded()) {
    folded_sum += s.value;
    other = other || s.frames.back() == "(other)";
  }
  EXPECT_EQ(folded_sum, total);
  EXPECT_TRUE(other);
  EXPECT_NE(RenderRequestTree(capped).find("(other)"), std::string::npos);
}

TEST(RequestProfilesTest, WritesTheThreeFiles) {
  RequestProfileData data;
  data.AddRequest(Signup(0));
  const std::string dir = ::testing::TempDir() + "/requests_profiles_" + std::to_string(getpid());
  std::filesystem::create_directories(dir);
  ASSERT_TRUE(WriteRequestProfiles(data, dir, 1'700'000'000'000'000'000, 60'000'000'000).ok());
  std::ifstream folded(dir + "/requests.folded");
  std::stringstream text;
  text << folded.rdbuf();
  auto parsed = ParseFolded(text.str());
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->size(), 6u);
  EXPECT_GT(std::filesystem::file_size(dir + "/requests.pb.gz"), 50u);
  std::ifstream svg(dir + "/requests.svg");
  std::stringstream svg_text;
  svg_text << svg.rdbuf();
  EXPECT_NE(svg_text.str().find("POST /signup"), std::string::npos);
  const PprofProfile p = data.Pprof(0, 0);
  ASSERT_EQ(p.sample_types.size(), 2u);
  for (const PprofSample& s : p.samples) {
    EXPECT_EQ(s.frames.front().name, "POST /signup");
    EXPECT_EQ(s.values.size(), 2u);
  }
  std::filesystem::remove_all(dir);
}

TEST(RequestTreeTextTest, EndpointsByTotalWithClassesAndTopChildren) {
  RequestProfileData data;
  for (int i = 0; i < 3; ++i) data.AddRequest(Signup(200 * kMs * static_cast<std::uint64_t>(i)));
  for (int i = 0; i < 10; ++i) {
    RequestBuilder b("GET /health", 0);
    b.Cpu(kMs / 10);
    data.AddRequest(b.Build());
  }
  RequestBuilder many("GET /orders", 0);
  for (int i = 0; i < 6; ++i) many.Query("SELECT " + std::to_string(i), kMs * (i + 1));
  data.AddRequest(many.Build());
  const std::string tree = RenderRequestTree(data);
  const auto signup = tree.find("POST /signup");
  const auto orders = tree.find("GET /orders");
  const auto health = tree.find("GET /health");
  ASSERT_NE(signup, std::string::npos);
  EXPECT_LT(signup, orders);
  EXPECT_LT(orders, health);
  EXPECT_NE(tree.find("    127.0.0.1:2525"), std::string::npos) << tree;
  EXPECT_NE(tree.find("    (3 more)"), std::string::npos) << tree;
  EXPECT_EQ(tree.find("SELECT 0\n"), std::string::npos) << tree;  // the smallest is folded away
}

TEST(RequestTreeTextTest, FitsTheWidthWithLongNames) {
  RequestProfileData data;
  const std::string long_path = "/api/v1/" + std::string(150, 'x');
  const std::string long_sql = "SELECT " + std::string(200, 'c') + " FROM t WHERE id = ?";
  for (int i = 0; i < 3; ++i) {
    data.AddRequest(RequestBuilder("GET " + long_path + "\x1b[31m", 0)
                        .Cpu(kMs)
                        .Query(long_sql, 123'456 * kMs)
                        .Build());
  }
  for (std::size_t width : {100u, 80u}) {
    const std::string tree = RenderRequestTree(data, RequestTreeOptions{.width = width});
    std::istringstream lines(tree);
    std::string line;
    int n = 0;
    while (std::getline(lines, line)) {
      ++n;
      EXPECT_LE(DisplayWidth(line), width) << line;
      EXPECT_EQ(line.find('\x1b'), std::string::npos);
    }
    EXPECT_GE(n, 5);
  }
}

}  // namespace
}  // namespace waitscope::findings
