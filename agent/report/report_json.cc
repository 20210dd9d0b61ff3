#include "report/report_json.h"

#include <cmath>
#include <exception>
#include <nlohmann/json.hpp>

#include "core/atomic_file.h"

namespace waitscope {
namespace {

// ordered_json keeps the contract's key order, which is what people reading
// the file expect; parsers do not care.
using Json = nlohmann::ordered_json;

constexpr int kSchemaVersion = 1;

Json TargetJson(const Target& t) {
  Json j = {{"pid", t.pid}, {"comm", t.comm}};
  if (!t.exe.empty()) j["exe"] = t.exe;
  return j;
}

Json WaitJson(const WaitRow& w) {
  return {{"pid", w.pid},
          {"comm", w.comm},
          {"class", std::string(WaitClassName(w.wait_class))},
          {"syscall", w.syscall},
          {"target", w.target},
          {"count", w.count},
          {"total_ns", w.total_ns},
          {"max_ns", w.max_ns}};
}

Json ReportToJson(const Report& r) {
  Json j = Json::object();
  j["schema_version"] = kSchemaVersion;
  j["tool"] = {{"name", "waitscope"}, {"version", r.tool_version}};
  // The schema wants a number >= 0; NaN would be written as null.
  j["duration_s"] = std::isfinite(r.duration_s) && r.duration_s > 0 ? r.duration_s : 0.0;
  Json targets = Json::array();
  for (const Target& t : r.targets) targets.push_back(TargetJson(t));
  j["targets"] = std::move(targets);
  j["loss"] = {{"events_dropped", r.loss.events_dropped},
               {"bytes_truncated", r.loss.bytes_truncated},
               {"parse_errors", r.loss.parse_errors}};
  Json waits = Json::array();
  for (const WaitRow& w : r.waits) waits.push_back(WaitJson(w));
  j["waits"] = std::move(waits);
  // Filled by later features; scripts rely on every key existing now.
  for (const char* key : {"connections", "queries", "cache", "tls", "http", "findings"}) {
    j[key] = Json::array();
  }
  j["recording"] = {{"min_block_ns", r.min_block_ns}, {"stacks", r.stacks.size()}};
  return j;
}

}  // namespace

std::string RenderReportJson(const Report& report) {
  // The replace handler is what keeps dump() from throwing on non-UTF-8 names.
  return ReportToJson(report).dump(2, ' ', false, Json::error_handler_t::replace);
}

Status WriteReportJson(const Report& report, const std::string& path) {
  std::string text;
  try {
    text = RenderReportJson(report);
  } catch (const std::exception& e) {
    return Error{"cannot render " + path + ": " + e.what()};
  }
  text += '\n';
  return WriteFileAtomically(path, text);
}

}  // namespace waitscope
