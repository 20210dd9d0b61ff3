#include "output/wait_profiles.h"

#include <limits>

#include "core/units.h"

namespace waitscope {
namespace {

// A process whose name was never seen: "?", in the frame and in the pprof
// label alike (pprof drops a label whose value is "", so -tagfocus could not
// find those samples).
std::string ShownComm(const WaitStack& s) {
  return s.comm.empty() ? std::string("?") : s.comm;
}

std::string ProcessFrame(const WaitStack& s) {
  return ShownComm(s) + " (" + std::to_string(s.pid) + ")";
}

std::string LeafFrame(const WaitStack& s) {
  return s.target == "-" ? s.syscall : s.syscall + " " + s.target;
}

std::int64_t Clamp(std::uint64_t v) {
  constexpr auto kMax = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  return static_cast<std::int64_t>(v > kMax ? kMax : v);
}

}  // namespace

std::string MissingStackFrame(const WaitStack& s, std::uint64_t min_block_ns) {
  if (!s.stack_taken) return "[no stack: waits under " + FormatDuration(min_block_ns) + "]";
  return "[stack unavailable]";
}

std::vector<FoldedStack> WaitFoldedStacks(const Report& report) {
  std::vector<FoldedStack> out;
  out.reserve(report.stacks.size());
  for (const WaitStack& s : report.stacks) {
    FoldedStack f;
    f.frames.push_back(ProcessFrame(s));
    f.frames.emplace_back(WaitClassName(s.wait_class));
    if (s.frames.empty()) {
      f.frames.push_back(MissingStackFrame(s, report.min_block_ns));
    } else {
      for (const Frame& fr : s.frames) f.frames.push_back(fr.name);
    }
    f.frames.push_back(LeafFrame(s));
    f.value = s.total_ns;
    out.push_back(std::move(f));
  }
  return out;
}

PprofProfile WaitPprofProfile(const Report& report, std::int64_t start_unix_ns) {
  PprofProfile p;
  p.sample_types = {{"waits", "count"}, {"wait", "nanoseconds"}};
  p.default_sample_type = "wait";
  p.time_nanos = start_unix_ns;
  p.duration_nanos = static_cast<std::int64_t>(report.duration_s * 1e9);
  p.comments.push_back("waitscope " + report.tool_version + ": blocked time in syscalls");
  for (const WaitStack& s : report.stacks) {
    PprofSample sample;
    if (s.frames.empty()) {
      sample.frames.push_back(Frame{MissingStackFrame(s, report.min_block_ns), ""});
    } else {
      sample.frames = s.frames;
    }
    sample.frames.push_back(Frame{LeafFrame(s), "[kernel]"});
    sample.values = {Clamp(s.count), Clamp(s.total_ns)};
    sample.str_labels = {{"comm", ShownComm(s)},
                         {"class", std::string(WaitClassName(s.wait_class))},
                         {"syscall", s.syscall},
                         {"target", s.target}};
    sample.num_labels = {{"pid", static_cast<std::int64_t>(s.pid)}};
    p.samples.push_back(std::move(sample));
  }
  return p;
}

}  // namespace waitscope
