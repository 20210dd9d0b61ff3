#include "output/report_dir.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "export/flamegraph_svg.h"
#include "export/folded.h"
#include "export/pprof.h"
#include "output/wait_profiles.h"
#include "report/report_json.h"
#include "report/report_text.h"

namespace waitscope {

Status PrepareOutputDir(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Error{"cannot create output directory '" + dir + "': " + ec.message()};
  if (!std::filesystem::is_directory(dir, ec)) {
    return Error{"output path '" + dir + "' exists and is not a directory"};
  }
  if (access(dir.c_str(), W_OK | X_OK) != 0) {
    return Error{"output directory '" + dir + "' is not writable: " + std::strerror(errno)};
  }
  return Status::Ok();
}

Status WriteReportDir(const Report& report, const std::string& dir, std::int64_t start_unix_ns,
                      const TextReportOptions& text) {
  if (Status s = PrepareOutputDir(dir); !s.ok()) return s;
  const std::string base = dir + "/";
  if (Status s = WriteReportJson(report, base + "report.json"); !s.ok()) return s;
  if (Status s = WriteReportText(report, text, base + "report.txt"); !s.ok()) {
    return s;
  }
  const std::vector<FoldedStack> folded = WaitFoldedStacks(report);
  if (Status s = WriteFolded(folded, base + "waits.folded"); !s.ok()) return s;
  if (Status s = WritePprof(WaitPprofProfile(report, start_unix_ns), base + "waits.pb.gz");
      !s.ok()) {
    return s;
  }
  FlameGraphOptions svg;
  svg.title = "waitscope: where threads were blocked";
  svg.root_name = "all blocked time";
  svg.palette = FlamePalette::kByKind;
  return WriteFlameGraphSvg(folded, svg, base + "flamegraph.svg");
}

}  // namespace waitscope
