// A one-line status on stderr while recording ("recording 12.3s · 4,512
// waits · 0 dropped"), redrawn in place. Only when stderr is a terminal:
// logs and CI output get no carriage-return noise.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace waitscope {

class ProgressLine {
 public:
  ProgressLine();  // enabled iff stderr is a tty
  void Update(double elapsed_s, std::uint64_t waits, std::uint64_t dropped,
              std::uint64_t processes);
  void Clear();  // erase the line before printing anything else
  // True when Update would redraw: lets callers skip gathering the numbers.
  bool Due() const;
  bool enabled() const { return enabled_; }

 private:
  bool enabled_ = false;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point last_;
};

std::string WithThousands(std::uint64_t n);

}  // namespace waitscope
