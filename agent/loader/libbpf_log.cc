#include "loader/libbpf_log.h"

#include <bpf/libbpf.h>
#include <spdlog/spdlog.h>

#include <cstdarg>
#include <cstdio>
#include <string>

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
  spdlog::debug("libbpf: {}", line);
  return n;
}

}  // namespace

void InstallLibbpfLogger() {
  libbpf_set_print(LibbpfPrint);
}

}  // namespace waitscope
