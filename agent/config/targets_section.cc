// The `targets` and `findings` sections of waitscope.yaml.
#include <algorithm>
#include <charconv>
#include <cmath>

#include "config/sections.h"
#include "config/spelling.h"

namespace waitscope::config {
namespace {

// The kernel keeps 15 characters of a process name (TASK_COMM_LEN - 1).
constexpr std::size_t kMaxComm = 15;

bool HasGlob(const std::string& pattern) {
  return pattern.find_first_of("*?[") != std::string::npos;
}

Status ParseRule(ParseContext& ctx, const YAML::Node& node, const std::string& path,
                 TargetRule& rule) {
  if (!node.IsMap()) {
    return ErrorAt(ctx, node,
                   "each entry of '" + path.substr(0, path.rfind('[')) +
                       "' must be a mapping with comm, exe, cgroup or unit, got " + Describe(node));
  }
  Result<MapReader> r = MapReader::Open(ctx, node, path, {"comm", "exe", "cgroup", "unit"});
  if (!r) return r.error();
  for (auto [key, field] : {std::pair{"comm", &rule.comm}, std::pair{"exe", &rule.exe},
                            std::pair{"cgroup", &rule.cgroup}, std::pair{"unit", &rule.unit}}) {
    if (Status s = r->ReadString(key, *field); !s) return s;
    if (r->Has(key) && field->empty()) {
      return r->ErrorAt(key, "'" + r->PathOf(key) + "' must not be empty");
    }
  }
  if (rule.comm.empty() && rule.exe.empty() && rule.cgroup.empty() && rule.unit.empty()) {
    return ErrorAt(ctx, node, "'" + path + "' needs at least one of comm, exe, cgroup, unit");
  }
  if (!HasGlob(rule.comm) && rule.comm.size() > kMaxComm) {
    return r->ErrorAt("comm", "'" + r->PathOf("comm") + "' is '" + rule.comm +
                                  "', but the kernel keeps only 15 characters of a process "
                                  "name; use '" +
                                  rule.comm.substr(0, kMaxComm) + "' or an exe pattern");
  }
  if (!rule.cgroup.empty() && rule.cgroup.front() != '/') {
    return r->ErrorAt("cgroup", "'" + r->PathOf("cgroup") +
                                    "' must be a cgroup path starting with '/', got '" +
                                    rule.cgroup + "'");
  }
  if (!rule.unit.empty()) {
    if (rule.unit.find('/') != std::string::npos) {
      return r->ErrorAt("unit", "'" + r->PathOf("unit") + "' must be a unit name like " +
                                    "nginx.service, got '" + rule.unit + "'");
    }
    // As systemctl does: a name without a type suffix is a service.
    if (rule.unit.find('.') == std::string::npos) rule.unit += ".service";
  }
  return Status::Ok();
}

Status ParseRuleList(const MapReader& targets, const char* key, std::vector<TargetRule>& out) {
  if (!targets.Has(key)) return Status::Ok();
  const YAML::Node list = targets.Value(key);
  if (!list.IsSequence()) {
    return targets.ErrorAt(
        key, "expected a list under '" + targets.PathOf(key) + "', got " + Describe(list));
  }
  ParseContext& ctx = targets.context();
  std::vector<TargetRule> rules;
  for (std::size_t i = 0; i < list.size(); ++i) {
    TargetRule rule;
    const std::string path = targets.PathOf(key) + "[" + std::to_string(i) + "]";
    if (Status s = ParseRule(ctx, list[i], path, rule); !s) return s;
    rules.push_back(std::move(rule));
  }
  out = std::move(rules);
  return Status::Ok();
}

// Flattens nested mappings into dotted keys: {n_plus_one: {min_repeats: 3}}
// and {"n_plus_one.min_repeats": 3} are the same setting.
Status CollectFindings(ParseContext& ctx, const YAML::Node& node, const std::string& prefix,
                       const std::vector<std::string>& known, AgentConfig& out) {
  for (auto it = node.begin(); it != node.end(); ++it) {
    if (!it->first.IsScalar()) {
      return ErrorAt(ctx, it->first, "keys under 'findings' must be plain names");
    }
    const std::string key = prefix.empty() ? it->first.Scalar() : prefix + "." + it->first.Scalar();
    const YAML::Node value = it->second;
    if (value.IsMap()) {
      if (Status s = CollectFindings(ctx, value, key, known, out); !s) return s;
      continue;
    }
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      std::string message = "unknown key '" + key + "' under 'findings'";
      if (std::string near = ClosestMatch(key, known); !near.empty()) {
        message += " (did you mean '" + near + "'?)";
      }
      return ErrorAt(ctx, it->first, message);
    }
    const std::string text = value.IsScalar() ? value.Scalar() : std::string();
    double number = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
    if (!value.IsScalar() || text.empty() || ec != std::errc() ||
        ptr != text.data() + text.size() || !std::isfinite(number)) {
      return ErrorAt(ctx, value.IsNull() ? it->first : value,
                     "'findings." + key + "' must be a number, got " + Describe(value));
    }
    if (out.finding_overrides.count(key) != 0) {
      return ErrorAt(ctx, it->first, "'findings." + key + "' is set twice");
    }
    if (Status s = findings::SetDetectorOption(out.findings, key, number); !s) {
      return ErrorAt(ctx, value, s.error().message);
    }
    out.finding_overrides[key] = number;
  }
  return Status::Ok();
}

}  // namespace

Status ParseTargets(const MapReader& top, TargetsConfig& out) {
  Result<MapReader> targets = top.Child("targets", {"include", "exclude"});
  if (!targets) return targets.error();
  if (Status s = ParseRuleList(*targets, "include", out.include); !s) return s;
  return ParseRuleList(*targets, "exclude", out.exclude);
}

Status ParseFindings(const MapReader& top, AgentConfig& out) {
  if (!top.Has("findings")) return Status::Ok();
  const YAML::Node node = top.Value("findings");
  if (!node.IsMap()) {
    return top.ErrorAt("findings",
                       "'findings' must be a mapping of thresholds, got " + Describe(node));
  }
  ParseContext& ctx = top.context();
  return CollectFindings(ctx, node, "", findings::DetectorOptionKeys(), out);
}

}  // namespace waitscope::config
