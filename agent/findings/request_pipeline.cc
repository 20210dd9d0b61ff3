#include "findings/request_pipeline.h"

#include <utility>

#include "findings/request_tree_text.h"

namespace waitscope::findings {

RequestPipeline::RequestPipeline(DetectorConfig config, AttributorOptions options)
    : config_(config),
      current_(std::make_unique<Window>(config_)),
      taken_(std::make_unique<Window>(config_)),
      attributor_(
          [this](RequestRecord&& r) {
            current_->engine.AddRequest(r);
            if (r.attributed) current_->profile.AddRequest(r);
          },
          [this](EventLoopBlock&& b) { current_->engine.AddEventLoopBlock(b); },
          std::move(options)) {}

void RequestPipeline::TakeWindow(Report& report, bool last) {
  if (last) attributor_.Finish();
  const auto breakdowns = current_->engine.Breakdowns();
  for (HttpRow& h : report.http) {
    if (!h.server) continue;
    if (auto it = breakdowns.find({h.pid, h.endpoint}); it != breakdowns.end()) {
      h.breakdown_us = it->second;
    }
  }
  report.findings = current_->engine.Finish(report, report.duration_s);
  taken_ = std::exchange(current_, std::make_unique<Window>(config_));
}

std::string RequestPipeline::RequestTreeText(std::size_t width) const {
  return RenderRequestTree(taken_->profile, RequestTreeOptions{.width = width});
}

Status RequestPipeline::WriteProfiles(const std::string& dir, std::int64_t start_unix_ns,
                                      std::int64_t duration_ns) const {
  return WriteRequestProfiles(taken_->profile, dir, start_unix_ns, duration_ns);
}

}  // namespace waitscope::findings
