#include "otlp/response_body.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/wire_format_lite.h>

#include <cstdint>

#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb.h"
#include "report/display_text.h"

namespace waitscope::otlp {
namespace {

constexpr std::size_t kTextMax = 200;  // characters

std::string Printable(std::string_view text) {
  return TruncateEnd(SanitizeForTerminal(text), kTextMax);
}

std::optional<std::string> Describe(std::int64_t rejected, const char* what,
                                    const std::string& message) {
  if (rejected == 0 && message.empty()) return std::nullopt;
  std::string text;
  if (rejected != 0) text = std::to_string(rejected) + " " + what + " rejected";
  if (!message.empty()) text += (text.empty() ? "" : ": ") + Printable(message);
  return text;
}

// google.rpc.Status { int32 code = 1; string message = 2; repeated Any
// details = 3; }, read field by field: its .proto is not part of
// opentelemetry-proto.
std::optional<std::string> StatusMessage(std::string_view body) {
  using google::protobuf::internal::WireFormatLite;
  google::protobuf::io::CodedInputStream in(reinterpret_cast<const std::uint8_t*>(body.data()),
                                            static_cast<int>(body.size()));
  std::optional<std::string> message;
  while (std::uint32_t tag = in.ReadTag()) {
    if (WireFormatLite::GetTagFieldNumber(tag) == 2 &&
        WireFormatLite::GetTagWireType(tag) == WireFormatLite::WIRETYPE_LENGTH_DELIMITED) {
      std::string text;
      if (!WireFormatLite::ReadString(&in, &text)) return std::nullopt;
      message = std::move(text);
    } else if (!WireFormatLite::SkipField(&in, tag)) {
      return std::nullopt;
    }
  }
  if (!in.ConsumedEntireMessage()) return std::nullopt;
  return message;
}

}  // namespace

std::optional<std::string> PartialSuccessText(OtlpSignal signal, std::string_view body) {
  if (body.empty()) return std::nullopt;
  if (signal == OtlpSignal::kMetrics) {
    opentelemetry::proto::collector::metrics::v1::ExportMetricsServiceResponse response;
    if (!response.ParseFromArray(body.data(), static_cast<int>(body.size()))) return std::nullopt;
    return Describe(response.partial_success().rejected_data_points(), "data points",
                    response.partial_success().error_message());
  }
  opentelemetry::proto::collector::logs::v1::ExportLogsServiceResponse response;
  if (!response.ParseFromArray(body.data(), static_cast<int>(body.size()))) return std::nullopt;
  return Describe(response.partial_success().rejected_log_records(), "log records",
                  response.partial_success().error_message());
}

std::string ErrorBodyText(std::string_view content_type, std::string_view body) {
  if (content_type.starts_with("application/x-protobuf")) {
    if (std::optional<std::string> message = StatusMessage(body); message && !message->empty()) {
      return Printable(*message);
    }
  }
  return Printable(body);
}

}  // namespace waitscope::otlp
