#include "cli/progress_line.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>

namespace waitscope {

std::string WithThousands(std::uint64_t n) {
  std::string digits = std::to_string(n);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

ProgressLine::ProgressLine() : enabled_(isatty(STDERR_FILENO) == 1) {}

void ProgressLine::Update(double elapsed_s, std::uint64_t waits, std::uint64_t dropped,
                          std::uint64_t processes) {
  if (!enabled_) return;
  auto now = std::chrono::steady_clock::now();
  if (drawn_ && now - last_ < std::chrono::milliseconds(250)) return;
  last_ = now;
  std::string line = fmt::format(
      "recording {:.1f}s | {} waits | {} dropped | {} process{} | Ctrl-C to stop", elapsed_s,
      WithThousands(waits), WithThousands(dropped), processes, processes == 1 ? "" : "es");
  std::fprintf(stderr, "\r\033[K%s", line.c_str());
  std::fflush(stderr);
  drawn_ = true;
}

bool ProgressLine::Due() const {
  return enabled_ &&
         (!drawn_ || std::chrono::steady_clock::now() - last_ >= std::chrono::milliseconds(250));
}

void ProgressLine::Clear() {
  if (!enabled_ || !drawn_) return;
  std::fprintf(stderr, "\r\033[K");
  std::fflush(stderr);
  drawn_ = false;
}

}  // namespace waitscope
