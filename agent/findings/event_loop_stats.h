// Blocks of event-loop threads, per (pid, class, syscall, target), for
// event_loop_blocked. Waits in the loop's own parking syscalls (class poll:
// epoll_wait, poll, select, eventfd/timerfd reads) are idleness, not blocking,
// and are never counted; neither are blocks shorter than the configured
// minimum. Lock waits (futex) are not counted either: where threads share a
// runtime lock (CPython's GIL, Ruby's GVL) the loop waits on it whenever
// another thread runs, which says nothing about what the loop called, and the
// finding's advice (non-blocking I/O) would not apply; lock time still shows
// in the waits and the flame graph. Memory: at most kMaxKeys keys, later keys
// are counted in dropped().
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <tuple>

#include "findings/detector_config.h"
#include "findings/request_record.h"

namespace waitscope::findings {

struct EventLoopBlockStats {
  std::string comm;
  std::uint32_t tid = 0;  // the first thread seen blocking there
  std::uint64_t count = 0;
  std::uint64_t total_ns = 0;
  std::uint64_t longest_ns = 0;
  // Blocks per endpoint answered right after them ("" when none was);
  // at most kMaxEndpoints endpoints, later ones under "".
  std::map<std::string, std::uint64_t> endpoints;
};

class EventLoopStats {
 public:
  static constexpr std::size_t kMaxKeys = 4096;
  static constexpr std::size_t kMaxEndpoints = 16;
  // (pid, class, syscall, target)
  using Key = std::tuple<std::uint32_t, WaitClass, std::string, std::string>;

  explicit EventLoopStats(const DetectorConfig& config);
  void Add(const EventLoopBlock& b);
  const std::map<Key, EventLoopBlockStats>& blocks() const { return blocks_; }
  std::uint64_t dropped() const { return dropped_; }

 private:
  std::uint64_t min_block_ns_;
  std::map<Key, EventLoopBlockStats> blocks_;
  std::uint64_t dropped_ = 0;
};

}  // namespace waitscope::findings
