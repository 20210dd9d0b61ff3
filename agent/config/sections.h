// Internal to agent/config: one parser per part of waitscope.yaml, each
// filling its part of AgentConfig from an opened MapReader, and the OTEL_*
// overlay that runs after them. See config_parser.h for the rules.
#pragma once

#include "config/agent_config.h"
#include "config/environment.h"
#include "config/yaml_map_reader.h"

namespace waitscope::config {

Status ParseTargets(const MapReader& top, TargetsConfig& out);
Status ParseExports(const MapReader& top, ExportsConfig& out);
Status ParseFindings(const MapReader& top, AgentConfig& out);

// A directory setting, when the file sets it, must name a directory the
// agent can create or use (path_checks.h); refused at the key's position.
Status CheckDirectory(const MapReader& r, const char* key, const std::string& path);

// Applies the OTEL_* (and OTEL_EXPORTER_PROMETHEUS_*) variables to the
// settings the file left unset, then resolves the OTLP URLs and service.name.
void ApplyEnvironment(const Environment& env, const ParseContext& ctx, AgentConfig& config);

}  // namespace waitscope::config
