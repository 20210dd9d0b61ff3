// libFuzzer target for the event-stream reader (findings/event_stream.h) and
// the replay behind it: the input is a whole stream file, plain or gzip'd,
// read through the same path as `replay_events` (a memfd stands in for the
// file). A stream that reads back is replayed through the wire aggregator,
// attribution and the detectors, whose inputs it fully controls: times out
// of order, absurd durations, unknown threads. Seeds (corpus/event_stream)
// are cuts of tests/unit/findings/streams. Besides crashes and sanitizer
// reports, it traps when a replay counts more served requests than the
// stream held server exchanges.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <variant>

#include "findings/event_replay.h"
#include "findings/event_stream.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace waitscope::findings;
  static const int fd = memfd_create("event_stream_fuzz", 0);
  if (fd < 0) __builtin_trap();
  if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != static_cast<ssize_t>(size)) {
    __builtin_trap();
  }
  const std::string path = "/proc/self/fd/" + std::to_string(fd);
  waitscope::Result<EventStream> stream = ReadEventStream(path);
  if (!stream.ok()) return 0;
  std::uint64_t server_exchanges = 0;
  for (const StreamEvent& e : stream.value().events) {
    const auto* x = std::get_if<StreamExchange>(&e);
    if (x != nullptr && x->origin.server) ++server_exchanges;
  }
  const waitscope::Report report = ReplayEventStream(stream.value(), DetectorConfig{});
  std::uint64_t requests = 0;
  for (const waitscope::HttpRow& h : report.http) requests += h.server ? h.count : 0;
  if (requests > server_exchanges) __builtin_trap();
  return 0;
}
