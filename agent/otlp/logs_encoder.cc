#include "otlp/logs_encoder.h"

#include <nlohmann/json.hpp>

#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"
#include "otlp/proto_util.h"

namespace waitscope::otlp {

namespace pb_common = opentelemetry::proto::common::v1;
namespace pb_logs = opentelemetry::proto::logs::v1;

namespace {

constexpr const char* kPrefix = "waitscope.finding.";

void ToAnyValue(const nlohmann::json& j, pb_common::AnyValue* out) {
  if (j.is_string()) {
    out->set_string_value(ToValidUtf8(j.get<std::string>()));
  } else if (j.is_boolean()) {
    out->set_bool_value(j.get<bool>());
  } else if (j.is_number_integer()) {
    out->set_int_value(j.get<std::int64_t>());
  } else if (j.is_number_unsigned()) {
    const auto u = j.get<std::uint64_t>();
    if (u > static_cast<std::uint64_t>(INT64_MAX)) {
      out->set_double_value(static_cast<double>(u));
    } else {
      out->set_int_value(static_cast<std::int64_t>(u));
    }
  } else if (j.is_number_float()) {
    out->set_double_value(j.get<double>());
  } else if (j.is_array()) {
    auto* array = out->mutable_array_value();
    for (const auto& item : j) ToAnyValue(item, array->add_values());
  } else if (j.is_object()) {
    auto* list = out->mutable_kvlist_value();
    for (const auto& [key, value] : j.items()) {
      auto* kv = list->add_values();
      kv->set_key(key);
      ToAnyValue(value, kv->mutable_value());
    }
  }
  // null: an empty AnyValue, which OTLP reads as "no value".
}

// Objects are flattened into dotted keys because most backends index flat
// attributes only; arrays keep their shape.
void Flatten(const nlohmann::json& j, const std::string& key, pb_logs::LogRecord* record) {
  if (j.is_object()) {
    for (const auto& [child, value] : j.items()) Flatten(value, key + "." + child, record);
    return;
  }
  auto* kv = record->add_attributes();
  kv->set_key(key);
  ToAnyValue(j, kv->mutable_value());
}

void SetSeverity(Severity severity, pb_logs::LogRecord* record) {
  switch (severity) {
    case Severity::kInfo:
      record->set_severity_number(pb_logs::SEVERITY_NUMBER_INFO);
      record->set_severity_text("info");
      break;
    case Severity::kWarning:
      record->set_severity_number(pb_logs::SEVERITY_NUMBER_WARN);
      record->set_severity_text("warning");
      break;
    case Severity::kCritical:
      record->set_severity_number(pb_logs::SEVERITY_NUMBER_ERROR);
      record->set_severity_text("critical");
      break;
  }
}

}  // namespace

std::string EncodeLogsRequest(const std::vector<FindingRow>& findings, std::int64_t time_unix_ns,
                              const ResourceInfo& resource) {
  opentelemetry::proto::collector::logs::v1::ExportLogsServiceRequest request;
  auto* rl = request.add_resource_logs();
  FillResource(resource, rl->mutable_resource());
  auto* sl = rl->add_scope_logs();
  FillScope(resource, sl->mutable_scope());
  const std::string prefix = kPrefix;
  for (const FindingRow& finding : findings) {
    auto* record = sl->add_log_records();
    record->set_time_unix_nano(static_cast<std::uint64_t>(time_unix_ns));
    record->set_observed_time_unix_nano(static_cast<std::uint64_t>(time_unix_ns));
    SetSeverity(finding.severity, record);
    record->mutable_body()->set_string_value(ToValidUtf8(finding.summary));
    record->set_event_name("waitscope.finding");
    SetString(record->add_attributes(), prefix + "kind", finding.kind);
    SetInt(record->add_attributes(), prefix + "pid", finding.pid);
    if (!finding.endpoint.empty()) {
      SetString(record->add_attributes(), prefix + "endpoint", finding.endpoint);
    }
    SetInt(record->add_attributes(), prefix + "cost_ns",
           static_cast<std::int64_t>(std::min<std::uint64_t>(finding.cost_ns, INT64_MAX)));
    if (finding.evidence_json.empty()) continue;
    const nlohmann::json evidence = nlohmann::json::parse(finding.evidence_json, nullptr, false);
    if (evidence.is_object()) {
      Flatten(evidence, prefix + "evidence", record);
    } else {
      SetString(record->add_attributes(), prefix + "evidence", finding.evidence_json);
    }
  }
  return request.SerializeAsString();
}

}  // namespace waitscope::otlp
