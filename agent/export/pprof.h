// pprof writer: turns generic weighted stacks into a gzipped, serialized
// perftools.profiles.Profile (export/profile.proto), the format of
// `go tool pprof`, Pyroscope and Parca.
//
// Contract:
//  - every sample has exactly one value per sample type, else an Error;
//  - one Function and one Location exist per unique (name, module); the module
//    is the Function's filename and gets one Mapping (flagged as already
//    symbolized, so pprof does not try to re-symbolize addresses we never
//    had). Frames with an empty module get no Mapping;
//  - sample locations are written leaf first, as pprof wants, although
//    PprofSample::frames is root first like every other stack in waitscope;
//  - output is deterministic: ids follow first appearance in the input.
// The caller's data is only read; functions are safe to call concurrently.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/result.h"
#include "core/stack.h"

namespace waitscope {

struct PprofSample {
  std::vector<Frame> frames;         // root first
  std::vector<std::int64_t> values;  // one per PprofProfile::sample_types
  std::vector<std::pair<std::string, std::string>> str_labels;   // (key, value)
  std::vector<std::pair<std::string, std::int64_t>> num_labels;  // (key, value)
};

struct PprofProfile {
  // (type, unit), e.g. {"waits", "count"}, {"wait", "nanoseconds"}.
  std::vector<std::pair<std::string, std::string>> sample_types;
  std::vector<PprofSample> samples;
  std::int64_t time_nanos = 0;      // start of the recording, Unix epoch
  std::int64_t duration_nanos = 0;  // length of the recording
  // Type pprof shows by default; empty means the last sample type (pprof's
  // own default). Must name one of sample_types otherwise.
  std::string default_sample_type;
  // Optional sampling period; left out of the file when period_type.first is empty.
  std::pair<std::string, std::string> period_type;
  std::int64_t period = 0;
  std::vector<std::string> comments;  // shown by `pprof -comments`
};

// Builds a one-type profile from folded stacks (frames without modules), so
// everything that feeds the folded and SVG writers can also feed pprof.
// Values above INT64_MAX are clamped.
PprofProfile PprofFromFolded(const std::vector<FoldedStack>& stacks, std::string type,
                             std::string unit);

// The gzipped bytes of the profile.
Result<std::string> EncodePprof(const PprofProfile& profile);
Status WritePprof(const PprofProfile& profile, const std::string& path);

}  // namespace waitscope
