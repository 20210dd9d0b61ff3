#include "config/config_parser.h"

#include <fcntl.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <exception>
#include <vector>

#include "config/sections.h"
#include "symbols/read_file.h"
#include "symbols/unique_fd.h"
#include "waitscope/bpf/sockets.h"

namespace waitscope::config {
namespace {

constexpr std::uint64_t kSecond = 1'000'000'000;

struct LevelName {
  LogLevel level;
  const char* name;
};
constexpr std::array<LevelName, 6> kLevels = {{{LogLevel::kTrace, "trace"},
                                               {LogLevel::kDebug, "debug"},
                                               {LogLevel::kInfo, "info"},
                                               {LogLevel::kWarn, "warn"},
                                               {LogLevel::kError, "error"},
                                               {LogLevel::kOff, "off"}}};

Status ParseCapture(const MapReader& top, CaptureConfig& out) {
  Result<MapReader> capture =
      top.Child("capture", {"capture_bytes", "capture_values", "min_block"});
  if (!capture) return capture.error();
  std::uint64_t bytes = out.capture_bytes;
  if (Status s = capture->ReadCount("capture_bytes", bytes, 0, WS_MAX_CAPTURE); !s) return s;
  out.capture_bytes = static_cast<std::uint32_t>(bytes);
  if (Status s = capture->ReadBool("capture_values", out.capture_values); !s) return s;
  return capture->ReadDuration("min_block", out.min_block_ns, 0, 3600 * kSecond);
}

Status ParseLimits(const MapReader& top, LimitsConfig& out) {
  Result<MapReader> limits =
      top.Child("limits", {"max_processes", "max_connections", "max_statements", "max_stacks"});
  if (!limits) return limits.error();
  if (Status s = limits->ReadCount("max_processes", out.max_processes, 1, 1 << 20); !s) return s;
  if (Status s = limits->ReadCount("max_connections", out.max_connections, 1, 1 << 24); !s) {
    return s;
  }
  if (Status s = limits->ReadCount("max_statements", out.max_statements, 1, 1 << 20); !s) return s;
  // A stack is ~520 bytes of kernel memory: at most ~540 MiB.
  return limits->ReadCount("max_stacks", out.max_stacks, 1, 1 << 20);
}

Status ParseSpool(const MapReader& top, SpoolConfig& out) {
  Result<MapReader> spool = top.Child("spool", {"dir", "max_bytes"});
  if (!spool) return spool.error();
  if (Status s = spool->ReadString("dir", out.dir); !s) return s;
  if (out.dir.empty()) return spool->ErrorAt("dir", "'spool.dir' must not be empty");
  if (Status s = CheckDirectory(*spool, "dir", out.dir); !s) return s;
  return spool->ReadByteSize("max_bytes", out.max_bytes, 0);
}

Status ParseLogLevel(const MapReader& top, LogLevel& out) {
  if (!top.Has("log_level")) return Status::Ok();
  const std::string what = "one of trace, debug, info, warn, error, off";
  Result<std::string> text = top.Scalar("log_level", what);
  if (!text) return text.error();
  for (const LevelName& l : kLevels) {
    if (*text == l.name) {
      out = l.level;
      return Status::Ok();
    }
  }
  return top.ErrorAt("log_level", "'log_level' must be " + what + ", got '" + *text + "'");
}

Status ParseDocument(const YAML::Node& root, ParseContext& ctx, AgentConfig& config) {
  Result<MapReader> top = MapReader::Open(
      ctx, root, "",
      {"targets", "capture", "window", "limits", "exports", "spool", "findings", "log_level"});
  if (!top) return top.error();
  if (Status s = ParseTargets(*top, config.targets); !s) return s;
  if (Status s = ParseCapture(*top, config.capture); !s) return s;
  if (Status s = top->ReadDuration("window", config.window_ns, kSecond, 86400 * kSecond); !s) {
    return s;
  }
  if (Status s = ParseLimits(*top, config.limits); !s) return s;
  if (Status s = ParseExports(*top, config.exports); !s) return s;
  if (Status s = ParseSpool(*top, config.spool); !s) return s;
  if (Status s = ParseFindings(*top, config); !s) return s;
  return ParseLogLevel(*top, config.log_level);
}

}  // namespace

const char* LogLevelName(LogLevel level) {
  for (const LevelName& l : kLevels) {
    if (l.level == level) return l.name;
  }
  return "info";
}

Result<AgentConfig> ParseAgentConfig(std::string_view yaml_text, std::string_view source_name,
                                     const Environment& env) {
  ParseContext ctx{std::string(source_name), {}};
  AgentConfig config;
  config.source = std::string(source_name);
  if (yaml_text.size() > kMaxConfigBytes) {
    return Error{ctx.source + ": " + std::to_string(yaml_text.size()) +
                 " bytes is no configuration file (at most " + std::to_string(kMaxConfigBytes) +
                 ")"};
  }
  // yaml-cpp takes a NUL for an escape or the end of the text.
  if (const std::size_t nul = yaml_text.find('\0'); nul != std::string_view::npos) {
    const std::string_view before = yaml_text.substr(0, nul);
    const std::size_t line_start = before.rfind('\n');
    const std::size_t column = line_start == std::string_view::npos ? nul : nul - line_start - 1;
    return Error{
        ctx.source + ":" + std::to_string(std::count(before.begin(), before.end(), '\n') + 1) +
        ":" + std::to_string(column + 1) + ": not valid YAML: a NUL byte (is this a text file?)"};
  }
  // The file's attributes are merged onto nothing: service.name is resolved last.
  config.exports.otlp.resource_attributes.clear();
  try {
    const std::vector<YAML::Node> documents = YAML::LoadAll(std::string(yaml_text));
    if (documents.size() > 1) {
      return Error{ctx.source + ": holds " + std::to_string(documents.size()) +
                   " YAML documents (separated by ---); the configuration is one"};
    }
    const YAML::Node root = documents.empty() ? YAML::Node() : documents.front();
    if (Status s = ParseDocument(root, ctx, config); !s) return s.error();
  } catch (const YAML::Exception& e) {
    const std::string where = e.mark.is_null()
                                  ? ctx.source
                                  : ctx.source + ":" + std::to_string(e.mark.line + 1) + ":" +
                                        std::to_string(e.mark.column + 1);
    return Error{where + ": not valid YAML: " + e.msg};
  } catch (const std::exception& e) {
    return Error{ctx.source + ": cannot read the configuration: " + e.what()};
  }
  ApplyEnvironment(env, ctx, config);
  return config;
}

Result<AgentConfig> LoadAgentConfig(const std::string& path, const Environment& env) {
  const UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    return Error{"cannot read config file '" + path + "': " + std::strerror(errno)};
  }
  int err = 0;
  // Bounded, so that /dev/zero or a huge file is refused, not read to its end.
  Result<std::string> text = ReadOpenFile(fd.get(), path, kMaxConfigBytes, &err);
  if (!text && err == 0) {  // ReadOpenFile's one error without an errno: the bound
    return Error{path + ": more than " + std::to_string(kMaxConfigBytes) +
                 " bytes is no configuration file"};
  }
  if (!text) return Error{"cannot read config file '" + path + "': " + std::strerror(err)};
  return ParseAgentConfig(*text, path, env);
}

}  // namespace waitscope::config
