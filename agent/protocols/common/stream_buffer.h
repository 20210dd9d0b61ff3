// Per-direction byte accumulator for streaming parsers: append what arrives,
// look at the unparsed bytes, consume what was parsed. Remembers the time of
// the newest chunk, which becomes a message's end time. Capped at
// kMaxBufferedBytes: Append reports overflow so the parser can count it and
// resynchronise.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>

#include "protocols/common/connection_parser.h"

namespace waitscope::protocols {

class StreamBuffer {
 public:
  // False if the buffer would exceed kMaxBufferedBytes (nothing appended).
  bool Append(std::string_view bytes, std::uint64_t ts_ns) {
    last_ts_ns_ = ts_ns;
    if (buf_.size() - start_ + bytes.size() > kMaxBufferedBytes) return false;
    if (start_ > 0 && start_ >= buf_.size() / 2) {
      buf_.erase(0, start_);
      start_ = 0;
    }
    buf_.append(bytes);
    return true;
  }
  std::string_view data() const { return std::string_view(buf_).substr(start_); }
  void Consume(std::size_t n) { start_ = std::min(buf_.size(), start_ + n); }
  void Clear() {
    buf_.clear();
    start_ = 0;
  }
  bool empty() const { return data().empty(); }
  std::uint64_t last_ts_ns() const { return last_ts_ns_; }

 private:
  std::string buf_;
  std::size_t start_ = 0;
  std::uint64_t last_ts_ns_ = 0;
};

}  // namespace waitscope::protocols
