// Small builders for the OTLP common messages (KeyValue, Resource,
// InstrumentationScope) shared by the metrics and logs encoders.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/utf8.h"
#include "opentelemetry/proto/common/v1/common.pb.h"
#include "opentelemetry/proto/resource/v1/resource.pb.h"
#include "otlp/resource.h"

namespace waitscope::otlp {

// Values may come from traced processes (names, endpoints, statements): a
// protobuf `string` must be UTF-8, and a collector refuses the whole request
// over one bad byte.
inline void SetString(opentelemetry::proto::common::v1::KeyValue* kv, const std::string& key,
                      std::string_view value) {
  kv->set_key(key);
  kv->mutable_value()->set_string_value(ToValidUtf8(value));
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
