// replay_events: puts a stream recorded by `waitscope record --save-events`
// back through the request stage (wire tables, attribution, detectors) and
// prints what the recording would have reported from it: the findings and
// the request tree, or with --json the report.json (without the waits,
// connections and targets a stream does not hold). For detector work:
// change a threshold or a detector, replay, compare. No root, no BPF.
//
//   replay_events FILE [--json] [--finding KEY=VALUE]...
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "findings/detector_config.h"
#include "findings/event_replay.h"
#include "findings/event_stream.h"
#include "report/report_json.h"
#include "report/report_text.h"

namespace {

int Usage() {
  std::fputs("usage: replay_events FILE [--json] [--finding KEY=VALUE]...\n", stderr);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace waitscope;
  std::string path;
  bool json = false;
  findings::DetectorConfig config;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--json") {
      json = true;
    } else if (arg == "--finding" && i + 1 < argc) {
      const std::string kv = argv[++i];
      const std::size_t eq = kv.find('=');
      char* end = nullptr;
      const double value = eq == std::string::npos ? 0 : std::strtod(kv.c_str() + eq + 1, &end);
      if (eq == std::string::npos || !end || *end != '\0') return Usage();
      if (Status s = findings::SetDetectorOption(config, kv.substr(0, eq), value); !s.ok()) {
        std::fprintf(stderr, "replay_events: %s\n", s.error().message.c_str());
        return 2;
      }
    } else if (path.empty() && !arg.starts_with("-")) {
      path = arg;
    } else {
      return Usage();
    }
  }
  if (path.empty()) return Usage();
  Result<findings::EventStream> stream = findings::ReadEventStream(path);
  if (!stream.ok()) {
    std::fprintf(stderr, "replay_events: %s\n", stream.error().message.c_str());
    return 1;
  }
  findings::EventReplayer replayer(config);
  double duration_s = 0;
  for (const findings::StreamEvent& e : stream->events) {
    replayer.Feed(e);
    if (const auto* end = std::get_if<findings::StreamEnd>(&e)) duration_s = end->duration_s;
  }
  Report report = replayer.Finish(duration_s);
  report.tool_version = stream->waitscope_version;
  if (json) {
    std::fputs(RenderReportJson(report).c_str(), stdout);
    return 0;
  }
  TextReportOptions text;
  text.request_tree = replayer.pipeline().RequestTreeText(text.max_width);
  std::fputs(RenderReportText(report, text).c_str(), stdout);
  return 0;
}
