// What an OTLP server says in its answers: partial success of a 2xx and the
// google.rpc.Status of an error, from bodies built with the official protos,
// by hand, truncated at every byte and as garbage.
#include "otlp/response_body.h"

#include <gtest/gtest.h>

#include <string>

#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb.h"
#include "report/display_text.h"

namespace waitscope::otlp {
namespace {

std::string MetricsAnswer(std::int64_t rejected, const std::string& message) {
  opentelemetry::proto::collector::metrics::v1::ExportMetricsServiceResponse response;
  response.mutable_partial_success()->set_rejected_data_points(rejected);
  response.mutable_partial_success()->set_error_message(message);
  return response.SerializeAsString();
}

// google.rpc.Status{code: 3, message: `message`}, encoded by hand: its
// .proto is not among ours.
std::string StatusBody(const std::string& message) {
  std::string body = "\x08\x03";  // field 1 (code), varint 3
  body += '\x12';                 // field 2 (message), length-delimited
  body += static_cast<char>(message.size());
  return body + message;
}

TEST(PartialSuccessText, FullSuccessSaysNothing) {
  EXPECT_EQ(PartialSuccessText(OtlpSignal::kMetrics, ""), std::nullopt);
  EXPECT_EQ(PartialSuccessText(OtlpSignal::kMetrics, MetricsAnswer(0, "")), std::nullopt);
}

TEST(PartialSuccessText, RejectedCountAndMessage) {
  EXPECT_EQ(PartialSuccessText(OtlpSignal::kMetrics, MetricsAnswer(3, "bad unit")),
            "3 data points rejected: bad unit");
  EXPECT_EQ(PartialSuccessText(OtlpSignal::kMetrics, MetricsAnswer(2, "")),
            "2 data points rejected");
  // A warning with nothing rejected is still worth a line.
  EXPECT_EQ(PartialSuccessText(OtlpSignal::kMetrics, MetricsAnswer(0, "slow down")), "slow down");

  opentelemetry::proto::collector::logs::v1::ExportLogsServiceResponse logs;
  logs.mutable_partial_success()->set_rejected_log_records(1);
  EXPECT_EQ(PartialSuccessText(OtlpSignal::kLogs, logs.SerializeAsString()),
            "1 log records rejected");
}

TEST(PartialSuccessText, MessageIsMadePrintableAndShort) {
  const std::optional<std::string> text =
      PartialSuccessText(OtlpSignal::kMetrics, MetricsAnswer(1, "a\r\nb" + std::string(500, 'x')));
  ASSERT_TRUE(text.has_value());
  EXPECT_EQ(text->find('\n'), std::string::npos);
  EXPECT_TRUE(text->starts_with("1 data points rejected: a??b"));
  EXPECT_LE(text->size(), 250u);
}

TEST(PartialSuccessText, TruncatedOrGarbageBodiesNeverThrow) {
  const std::string whole = MetricsAnswer(7, "some message");
  for (std::size_t n = 0; n <= whole.size(); ++n) {
    const std::optional<std::string> text =
        PartialSuccessText(OtlpSignal::kMetrics, std::string_view(whole).substr(0, n));
    if (n == whole.size()) {
      EXPECT_EQ(text, "7 data points rejected: some message");
    }
  }
  EXPECT_EQ(PartialSuccessText(OtlpSignal::kLogs, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"),
            std::nullopt);
  EXPECT_EQ(PartialSuccessText(OtlpSignal::kMetrics, "<html>ok</html>"), std::nullopt);
}

TEST(ErrorBodyText, StatusMessageOfAProtobufBody) {
  EXPECT_EQ(ErrorBodyText("application/x-protobuf", StatusBody("unknown metric type")),
            "unknown metric type");
}

TEST(ErrorBodyText, OtherBodiesAsPrintableText) {
  EXPECT_EQ(ErrorBodyText("text/plain", "quota\texceeded\n"), "quota?exceeded?");
  EXPECT_EQ(DisplayWidth(ErrorBodyText("", std::string(300, 'y'))), 200u);
  EXPECT_EQ(ErrorBodyText("", "\xff ok"), "\xEF\xBF\xBD ok");  // not UTF-8: U+FFFD
  // Protobuf that is not a Status, or a truncated one: the bytes, made printable.
  const std::string status = StatusBody("unknown metric type");
  for (std::size_t n = 0; n < status.size(); ++n) {
    const std::string text = ErrorBodyText("application/x-protobuf", status.substr(0, n));
    for (char c : text) EXPECT_GE(static_cast<unsigned char>(c), 0x20) << n;
  }
  EXPECT_EQ(ErrorBodyText("application/x-protobuf", "\x12\x40short"), "?@short");
}

}  // namespace
}  // namespace waitscope::otlp
