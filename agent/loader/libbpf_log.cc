#include "loader/libbpf_log.h"

#include <bpf/libbpf.h>
#include <spdlog/spdlog.h>

#include <cstdarg>
#include <cstdio>
#include <string>
#include <string_view>

namespace waitscope {
namespace {

int LibbpfPrint(enum libbpf_print_level level, const char* format, va_list args) {
  if (level == LIBBPF_DEBUG && !spdlog::should_log(spdlog::level::trace)) return 0;
  if (!spdlog::should_log(spdlog::level::debug)) return 0;
  // A failed program load arrives as one message holding the verifier's
  // whole log (megabytes), whose last lines say why: size the buffer to it.
  va_list again;
  va_copy(again, args);
  const int n = std::vsnprintf(nullptr, 0, format, args);
  if (n <= 0) {
    va_end(again);
    return 0;
  }
  std::string line(static_cast<std::size_t>(n) + 1, '\0');
  std::vsnprintf(line.data(), line.size(), format, again);
  va_end(again);
  line.resize(static_cast<std::size_t>(n));
  while (!line.empty() && line.back() == '\n') line.pop_back();
  // Most of libbpf's messages name it already ("libbpf: map 'x': ...").
  constexpr std::string_view kPrefix = "libbpf: ";
  const std::string_view text =
      line.starts_with(kPrefix) ? std::string_view(line).substr(kPrefix.size()) : line;
  spdlog::debug("libbpf: {}", text);
  return n;
}

}  // namespace

void InstallLibbpfLogger() {
  libbpf_set_print(LibbpfPrint);
}

}  // namespace waitscope
