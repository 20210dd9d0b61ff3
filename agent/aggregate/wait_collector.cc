#include "aggregate/wait_collector.h"

#include <algorithm>
#include <cstring>

#include "loader/event_read.h"
#include "loader/syscall_table.h"

namespace waitscope {
namespace {

std::string CommFrom(const char (&comm)[WS_COMM_LEN]) {
  return std::string(comm, strnlen(comm, WS_COMM_LEN));
}

}  // namespace

void WaitCollector::OnEvent(std::span<const std::byte> data) {
  ++stats_.events;
  ws_event_header hdr{};
  if (!ReadEvent(data, hdr)) {
    ++stats_.bad_events;
    return;
  }
  switch (hdr.type) {
    case WS_EV_STACK: {
      ws_stack_event ev{};
      if (!ReadEvent(data, ev)) break;
      Symbolize(hdr.tgid, ev.hash);
      return;
    }
    case WS_EV_WAIT: {
      ws_wait_event ev{};
      if (!ReadEvent(data, ev)) break;
      if (!wait_handler_) return;
      WaitEvent w;
      w.pid = hdr.tgid;
      w.tid = ev.tid;
      w.end_ns = hdr.ts_ns;
      w.blocked_ns = ev.offcpu_ns;
      w.syscall = SyscallName(ev.syscall_nr);
      w.target = FormatTarget(ev.target, names_);
      w.wait_class = ClassifyWait(w.syscall, ev.target);
      if (ev.stack_hash > WS_STACK_MISSING) w.frames = Symbolize(hdr.tgid, ev.stack_hash);
      wait_handler_(w);
      return;
    }
    case WS_EV_NAME: {
      // The event is large; read it in place rather than copying to the stack.
      if (data.size() < sizeof(ws_name_event)) break;
      auto ev = std::make_unique<ws_name_event>();
      std::memcpy(ev.get(), data.data(), sizeof(ws_name_event));
      names_.Add(*ev);
      return;
    }
    case WS_EV_FORK: {
      ws_proc_event ev{};
      if (!ReadEvent(data, ev)) break;
      ProcessInfo& info = procs_.Observe(hdr.tgid, ev.parent_tgid);
      if (info.comm.empty()) info.comm = CommFrom(ev.comm);
      return;
    }
    case WS_EV_EXEC: {
      ws_proc_event ev{};
      if (!ReadEvent(data, ev)) break;
      procs_.OnExec(hdr.tgid, CommFrom(ev.comm));
      return;
    }
    case WS_EV_EXIT: {
      ws_proc_event ev{};
      if (!ReadEvent(data, ev)) break;
      procs_.Observe(hdr.tgid);
      procs_.OnExit(hdr.tgid);
      if (exit_handler_) exit_handler_(hdr.tgid, hdr.ts_ns);
      return;
    }
    default:
      break;
  }
  ++stats_.bad_events;
}

std::shared_ptr<const std::vector<Frame>> WaitCollector::Symbolize(std::uint32_t tgid,
                                                                   std::uint64_t hash) {
  auto key = std::make_pair(tgid, hash);
  if (auto it = stacks_.find(key); it != stacks_.end()) return it->second;
  std::optional<ws_stack> stack = probe_.ReadStack(tgid, hash);
  if (!stack) return nullptr;

  std::vector<std::uint64_t> ips;  // leaf first; ips[1] is 0 when no caller was scanned
  const std::uint32_t depth = std::min<std::uint32_t>(stack->depth, WS_MAX_STACK_DEPTH);
  for (std::uint32_t i = 0; i < depth; ++i) {
    if (stack->ips[i] != 0) ips.push_back(stack->ips[i]);
  }
  std::vector<Frame> frames;
  if (!ips.empty()) {
    const ProcessMaps* maps = procs_.MapsFor(tgid, ips);
    frames = maps ? symbolizer_.ResolveStack(tgid, *maps, ips)
                  : symbolizer_.ResolveStack(tgid, ProcessMaps(), ips);
    // Deeper than the kernel's walk goes: say so at the root rather than
    // root the graph at a middle frame.
    if (stack->flags & WS_STACK_TRUNCATED) {
      frames.insert(frames.begin(), Frame{kTruncatedStackFrame, ""});
    }
  }
  auto shared = std::make_shared<const std::vector<Frame>>(std::move(frames));
  stacks_.emplace(key, shared);
  return shared;
}

void WaitCollector::OnKernelMapsCleared() {
  window_.Clear();
  for (auto it = stacks_.begin(); it != stacks_.end();) {
    const ProcessInfo* info = procs_.Find(it->first.first);
    it = (!info || info->exited) ? stacks_.erase(it) : std::next(it);
  }
}

std::vector<WaitStack> WaitCollector::Collect(bool since_last_call) {
  std::vector<WaitStack> out;
  for (auto [key, val] : probe_.ReadWaits()) {
    if (since_last_call && !window_.Advance(key, val)) continue;
    WaitStack w;
    w.pid = key.tgid;
    w.comm = procs_.Observe(key.tgid).comm;
    w.syscall = SyscallName(key.syscall_nr);
    w.target = FormatTarget(key.target, names_);
    w.wait_class = ClassifyWait(w.syscall, key.target);
    w.count = val.count;
    w.total_ns = val.total_ns;
    w.max_ns = val.max_ns;
    if (key.stack_hash != WS_STACK_NONE) {
      w.stack_taken = true;  // WS_STACK_MISSING: long enough, but no stack came
      if (key.stack_hash != WS_STACK_MISSING) {
        if (auto frames = Symbolize(key.tgid, key.stack_hash)) w.frames = *frames;
      }
    }
    out.push_back(std::move(w));
  }
  return out;
}

}  // namespace waitscope
