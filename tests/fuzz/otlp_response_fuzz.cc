// libFuzzer target for what an OTLP/HTTP server answers (otlp/response_body.h):
// bytes from the network, read for the log. Input layout:
//   byte 0: bit 0 picks the signal (metrics, logs), bit 1 the content type
//           (application/x-protobuf, text/plain);
//   rest:   the response body.
// Checks what the log relies on: never an exception, text that is printable
// and short.
// Seeds (corpus/otlp_response): a partial success, a google.rpc.Status.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "otlp/response_body.h"
#include "report/display_text.h"

namespace {

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

void CheckPrintable(std::string_view text, std::size_t max) {
  Check(waitscope::DisplayWidth(text) <= max);
  Check(waitscope::SanitizeForTerminal(text) == text);  // no control character left
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t mode = data[0];
  const std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
  using waitscope::otlp::OtlpSignal;
  const OtlpSignal signal = (mode & 1) ? OtlpSignal::kLogs : OtlpSignal::kMetrics;
  if (std::optional<std::string> text = waitscope::otlp::PartialSuccessText(signal, body)) {
    Check(!text->empty());
    CheckPrintable(*text, 250);  // a count, a label and a message of at most 200 bytes
  }
  const std::string_view type = (mode & 2) ? "text/plain" : "application/x-protobuf";
  CheckPrintable(waitscope::otlp::ErrorBodyText(type, body), 200);
  return 0;
}
