// The request-path tree for report.txt: endpoints by total time, each with
// its classes and their top children (statement, peer, path), as an aligned
// table no wider than `width` columns (long names are middle-truncated).
// Names are sanitized for the terminal (report/display_text.h).
#pragma once

#include <cstddef>
#include <string>

#include "findings/request_profiles.h"

namespace waitscope::findings {

struct RequestTreeOptions {
  std::size_t top_endpoints = 10;  // 0: all
  std::size_t top_children = 3;    // per class; 0: none
  std::size_t width = 100;
};

// Empty string when there were no requests.
std::string RenderRequestTree(const RequestProfileData& data,
                              const RequestTreeOptions& options = {});

}  // namespace waitscope::findings
