// The request stage of a trace, end to end: attribution of each server
// request's waits, statements and connects (RequestAttributor, which lives as
// long as the trace), and per window the detectors (FindingsEngine) and the
// request-path profile (RequestProfileData). The trace loop feeds it events
// and calls Flush after every poll; TakeWindow fills a window's findings and
// breakdowns and keeps that window's profile for report.txt and the
// requests.folded/.pb.gz/.svg files.
//
// Not thread-safe: one event loop.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "aggregate/wait_collector.h"
#include "conn/wire_observer.h"
#include "findings/detector_config.h"
#include "findings/findings_engine.h"
#include "findings/request_attributor.h"
#include "findings/request_profiles.h"
#include "report/report.h"

namespace waitscope::findings {

class RequestPipeline {
 public:
  explicit RequestPipeline(DetectorConfig config, AttributorOptions options = {});

  // Where the connection tracker sends exchanges, connection uses and handshakes.
  WireObserver* observer() { return &attributor_; }
  void OnWait(const WaitEvent& wait) { attributor_.OnWait(wait); }
  void Flush(std::uint64_t now_monotonic_ns) { attributor_.Flush(now_monotonic_ns); }

  // Closes the window: fills report.findings and the server rows'
  // http[].breakdown_us (report.queries/cache/tls/http must be filled
  // already). `last`: the trace ends, so every request in flight is settled
  // first.
  void TakeWindow(Report& report, bool last);

  // Of the window taken last: the request tree for report.txt (empty when no
  // request was attributed) and the profile files.
  std::string RequestTreeText(std::size_t width) const;
  bool has_requests() const { return !taken_->profile.empty(); }
  Status WriteProfiles(const std::string& dir, std::int64_t start_unix_ns,
                       std::int64_t duration_ns) const;

  const AttributorStats& attribution_stats() const { return attributor_.stats(); }

 private:
  struct Window {
    explicit Window(const DetectorConfig& config) : engine(config) {}
    FindingsEngine engine;
    RequestProfileData profile;
  };

  DetectorConfig config_;
  std::unique_ptr<Window> current_;
  std::unique_ptr<Window> taken_;
  RequestAttributor attributor_;
};

}  // namespace waitscope::findings
