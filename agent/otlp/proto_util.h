// Small builders for the OTLP common messages (KeyValue, Resource,
// InstrumentationScope) shared by the metrics and logs encoders.
#pragma once

#include <cstdint>
#include <string>

#include "opentelemetry/proto/common/v1/common.pb.h"
#include "opentelemetry/proto/resource/v1/resource.pb.h"
#include "otlp/resource.h"

namespace waitscope::otlp {

inline void SetString(opentelemetry::proto::common::v1::KeyValue* kv, const std::string& key,
                      const std::string& value) {
  kv->set_key(key);
  kv->mutable_value()->set_string_value(value);
}

inline void SetInt(opentelemetry::proto::common::v1::KeyValue* kv, const std::string& key,
                   std::int64_t value) {
  kv->set_key(key);
  kv->mutable_value()->set_int_value(value);
}

inline void FillResource(const ResourceInfo& info,
                         opentelemetry::proto::resource::v1::Resource* r) {
  for (const auto& [key, value] : info.attributes) SetString(r->add_attributes(), key, value);
}

inline void FillScope(const ResourceInfo& info,
                      opentelemetry::proto::common::v1::InstrumentationScope* scope) {
  scope->set_name(info.scope_name);
  scope->set_version(info.scope_version);
}

}  // namespace waitscope::otlp
