#include "otlp/resource.h"

#include <limits.h>
#include <unistd.h>

#include <algorithm>

namespace waitscope::otlp {
namespace {

void Set(KeyValues& kvs, const std::string& key, const std::string& value) {
  auto it = std::find_if(kvs.begin(), kvs.end(), [&](const auto& kv) { return kv.first == key; });
  if (it != kvs.end()) {
    it->second = value;
  } else {
    kvs.emplace_back(key, value);
  }
}

std::string HostName() {
  char name[HOST_NAME_MAX + 1] = {};
  if (gethostname(name, sizeof(name) - 1) != 0) return "";
  return name;
}

}  // namespace

ResourceInfo BuildResource(const std::string& service_name, const KeyValues& extra,
                           const std::string& scope_version) {
  ResourceInfo info;
  info.scope_version = scope_version;
  Set(info.attributes, "service.name", service_name.empty() ? "waitscope" : service_name);
  if (std::string host = HostName(); !host.empty()) Set(info.attributes, "host.name", host);
  for (const auto& [key, value] : extra) {
    if (!key.empty()) Set(info.attributes, key, value);
  }
  return info;
}

}  // namespace waitscope::otlp
