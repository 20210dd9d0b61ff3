// Loading and validating the agent's configuration: waitscope.yaml (default
// /etc/waitscope/waitscope.yaml) overlaid on the OTEL_* environment.
//
// Precedence, per setting: the file, then the environment, then the built-in
// default (docs/agent-config.md). The OTLP endpoints move as one group: if
// the file sets any of endpoint / metrics_endpoint / logs_endpoint, the
// OTEL_EXPORTER_OTLP_*ENDPOINT variables are ignored. Maps (headers,
// resource_attributes) merge, the file winning per name.
//
// Contract: the first problem in the file is the error, one line
// "FILE:LINE:COL: message" (unknown key with a suggestion, wrong type, value
// out of range, unsafe listen address). Malformed OTEL_* variables are not
// errors: as OpenTelemetry specifies, they are ignored, and each one adds a
// line to AgentConfig::warnings for the caller to log. Pure apart from
// LoadAgentConfig reading the file; safe to call from any thread.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "config/agent_config.h"
#include "config/environment.h"
#include "core/result.h"

namespace waitscope::config {

inline constexpr char kDefaultConfigPath[] = "/etc/waitscope/waitscope.yaml";
// A configuration is a few KiB; anything past this is refused unread (the
// packaged file is ~5 KiB).
inline constexpr std::size_t kMaxConfigBytes = 1 << 20;

Result<AgentConfig> LoadAgentConfig(const std::string& path, const Environment& env);

// `source_name` is what errors call the text ("waitscope.yaml").
Result<AgentConfig> ParseAgentConfig(std::string_view yaml_text, std::string_view source_name,
                                     const Environment& env);

const char* LogLevelName(LogLevel level);

}  // namespace waitscope::config
