// The OpenTelemetry resource and instrumentation scope that every OTLP request
// from this agent carries: who sent the data (service.name, host.name, the
// configured attributes) and which instrumentation produced it.
#pragma once

#include <string>

#include "otlp/options.h"

namespace waitscope::otlp {

struct ResourceInfo {
  KeyValues attributes;  // service.name first, then host.name, then the rest in given order
  std::string scope_name = "waitscope";
  std::string scope_version;
};

// service.name from `service_name` (default "waitscope") and host.name from
// gethostname(), each overridden by the same key in `extra`; later duplicates
// in `extra` win over earlier ones.
ResourceInfo BuildResource(const std::string& service_name, const KeyValues& extra,
                           const std::string& scope_version);

}  // namespace waitscope::otlp
