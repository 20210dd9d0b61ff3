// Environment: the process environment as a plain map, passed explicitly to
// the config parser so tests never depend on (or change) the real one.
#pragma once

#include <map>
#include <string>

namespace waitscope::config {

using Environment = std::map<std::string, std::string>;

// A copy of this process's environment (environ), taken once at start and at
// each reload.
Environment CurrentEnvironment();

// The value of `name`, or "" when unset. OpenTelemetry treats an empty
// variable as unset, and so does every caller of this.
std::string EnvValue(const Environment& env, const std::string& name);

}  // namespace waitscope::config
