// Value parsers of the agent config: sizes, listen addresses, OTel key-value
// lists and URLs, spelling suggestions.
#include <gtest/gtest.h>

#include "config/listen_address.h"
#include "config/otel_values.h"
#include "config/spelling.h"
#include "core/byte_size.h"

namespace waitscope::config {
namespace {

TEST(ParseByteSize, AcceptsDecimalAndBinaryUnits) {
  EXPECT_EQ(*ParseByteSize("0"), 0u);
  EXPECT_EQ(*ParseByteSize("4096"), 4096u);
  EXPECT_EQ(*ParseByteSize("4096B"), 4096u);
  EXPECT_EQ(*ParseByteSize("64KiB"), 65536u);
  EXPECT_EQ(*ParseByteSize("64MiB"), 64u << 20);
  EXPECT_EQ(*ParseByteSize("1GB"), 1'000'000'000u);
  EXPECT_EQ(*ParseByteSize("1gib"), 1u << 30);
  EXPECT_EQ(*ParseByteSize("1.5k"), 1500u);
  EXPECT_EQ(*ParseByteSize("2 MB"), 2'000'000u);
  EXPECT_EQ(*ParseByteSize("1TiB"), 1ULL << 40);
}

TEST(ParseByteSize, RejectsNonsense) {
  EXPECT_FALSE(ParseByteSize("").ok());
  EXPECT_FALSE(ParseByteSize("-1MB").ok());
  EXPECT_FALSE(ParseByteSize("MB").ok());
  EXPECT_FALSE(ParseByteSize("1.2.3MB").ok());
  EXPECT_FALSE(ParseByteSize("99999999TB").ok());
  Result<std::uint64_t> unit = ParseByteSize("3 parsecs");
  ASSERT_FALSE(unit.ok());
  EXPECT_EQ(unit.error().message,
            "'3 parsecs': unknown unit 'parsecs' (use B, KB, MB, GB, TB or KiB, MiB, GiB, TiB)");
}

TEST(ParseListenAddress, Forms) {
  Result<ListenAddress> v4 = ParseListenAddress("127.0.0.1:9464");
  ASSERT_TRUE(v4.ok());
  EXPECT_EQ(v4->host, "127.0.0.1");
  EXPECT_EQ(v4->port, 9464);
  EXPECT_FALSE(v4->every_interface);
  Result<ListenAddress> v6 = ParseListenAddress("[::1]:80");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_FALSE(v6->every_interface);
  EXPECT_TRUE(ParseListenAddress("localhost:9464").ok());
  EXPECT_TRUE(ParseListenAddress("10.1.2.3:9464").ok());
  EXPECT_TRUE(ParseListenAddress("0.0.0.0:9464")->every_interface);
  EXPECT_TRUE(ParseListenAddress("[::]:9464")->every_interface);
  EXPECT_TRUE(ParseListenAddress("[0:0::0]:9464")->every_interface);
  EXPECT_TRUE(ParseListenAddress(":9464")->every_interface);
}

TEST(ParseListenAddress, Rejects) {
  EXPECT_FALSE(ParseListenAddress("9464").ok());
  EXPECT_FALSE(ParseListenAddress("127.0.0.1:0").ok());
  EXPECT_FALSE(ParseListenAddress("127.0.0.1:65536").ok());
  EXPECT_FALSE(ParseListenAddress("127.0.0.1:").ok());
  EXPECT_FALSE(ParseListenAddress("::1:9464").ok());
  EXPECT_FALSE(ParseListenAddress("[::1]9464").ok());
  EXPECT_FALSE(ParseListenAddress("[nothex]:9464").ok());
  EXPECT_EQ(ParseListenAddress("metrics.internal:9464").error().message,
            "'metrics.internal:9464': 'metrics.internal' is not an IP address (or localhost)");
}

TEST(OtelKeyValueList, W3cBaggageStyle) {
  auto kv = ParseOtelKeyValueList(" a = 1 ,b=x%2Cy,, c=%e2%9c%93 ");
  ASSERT_TRUE(kv.ok());
  EXPECT_EQ(*kv, (std::map<std::string, std::string>{{"a", "1"}, {"b", "x,y"}, {"c", "\u2713"}}));
  EXPECT_TRUE(ParseOtelKeyValueList("")->empty());
  EXPECT_EQ(ParseOtelKeyValueList("k=")->at("k"), "");
  EXPECT_FALSE(ParseOtelKeyValueList("=v").ok());
  EXPECT_FALSE(ParseOtelKeyValueList("k=%zz").ok());
  EXPECT_FALSE(ParseOtelKeyValueList("k=%4").ok());
}

TEST(OtlpUrls, SignalAndBase) {
  EXPECT_EQ(SignalEndpointUrl("http://h:4318"), "http://h:4318/");
  EXPECT_EQ(SignalEndpointUrl("http://h:4318/custom"), "http://h:4318/custom");
  EXPECT_EQ(SignalEndpointUrl("http://h/v1/metrics?x=1"), "http://h/v1/metrics?x=1");
  EXPECT_EQ(BaseEndpointUrl("http://h:4318", "v1/metrics"), "http://h:4318/v1/metrics");
  EXPECT_EQ(BaseEndpointUrl("http://h:4318/", "v1/metrics"), "http://h:4318/v1/metrics");
  EXPECT_EQ(BaseEndpointUrl("http://h/a/b", "v1/logs"), "http://h/a/b/v1/logs");
  EXPECT_EQ(BaseEndpointUrl("http://h/a?q=1", "v1/logs"), "http://h/a/v1/logs");
  EXPECT_TRUE(CheckHttpUrl("https://h").ok());
  EXPECT_FALSE(CheckHttpUrl("http://").ok());
  EXPECT_FALSE(CheckHttpUrl("http://:4318/").ok());
  EXPECT_FALSE(CheckHttpUrl("grpc://h:4317").ok());
  // Ports: curl refuses these at every request, so the config does at once.
  for (const char* good : {"http://h:1", "http://h:65535/v1", "http://[::1]:4318", "http://[::1]/x",
                           "https://u:p@h:443", "http://h?x=1"}) {
    EXPECT_TRUE(CheckHttpUrl(good).ok()) << good;
  }
  for (const char* bad : {"http://h:99999", "http://h:0", "http://h:/", "http://h:43a8",
                          "http://h:123456789012345678901", "http://[::1:4318"}) {
    EXPECT_FALSE(CheckHttpUrl(bad).ok()) << bad;
  }
  EXPECT_EQ(CheckHttpUrl("http://h:99999").error().message,
            "'http://h:99999' has no valid port ('99999': expected 1 to 65535)");
}

TEST(ClosestMatch, PlausibleTyposOnly) {
  const std::vector<std::string> keys = {"targets", "capture", "window", "exports", "log_level"};
  EXPECT_EQ(ClosestMatch("exprots", keys), "exports");
  EXPECT_EQ(ClosestMatch("windw", keys), "window");
  EXPECT_EQ(ClosestMatch("loglevel", keys), "log_level");
  EXPECT_EQ(ClosestMatch("Targets", keys), "targets");
  EXPECT_EQ(ClosestMatch("color", keys), "");
}

}  // namespace
}  // namespace waitscope::config
