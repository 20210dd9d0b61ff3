#include "config/yaml_map_reader.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "config/spelling.h"
#include "core/byte_size.h"
#include "core/duration.h"

namespace waitscope::config {
namespace {

bool IsBareNumber(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return std::isdigit(static_cast<unsigned char>(c)) || c == '.';
  });
}

std::string Quote(std::string_view key) {
  // A key is echoed in one line of the log, not in full if it is a page long.
  constexpr std::size_t kShown = 80;
  if (key.size() > kShown) return "'" + std::string(key.substr(0, kShown)) + "...'";
  return "'" + std::string(key) + "'";
}

}  // namespace

Error ErrorAt(const ParseContext& ctx, const YAML::Node& node, const std::string& message) {
  const YAML::Mark mark = node.Mark();
  if (mark.line < 0 || mark.column < 0) return Error{ctx.source + ": " + message};
  return Error{ctx.source + ":" + std::to_string(mark.line + 1) + ":" +
               std::to_string(mark.column + 1) + ": " + message};
}

std::string Describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Scalar:
      return "'" + node.Scalar() + "'";
    default:
      return "nothing";
  }
}

Result<MapReader> MapReader::Open(ParseContext& ctx, const YAML::Node& node, std::string path,
                                  std::vector<std::string> allowed_keys) {
  MapReader reader(ctx, std::move(path));
  if (!node.IsDefined() || node.IsNull()) return reader;
  const std::string where =
      reader.path_.empty() ? "at the top level" : "under " + Quote(reader.path_);
  if (!node.IsMap())
    return config::ErrorAt(ctx, node, "expected a mapping " + where + ", got " + Describe(node));
  for (auto it = node.begin(); it != node.end(); ++it) {
    const YAML::Node key_node = it->first;
    if (!key_node.IsScalar()) {
      return config::ErrorAt(ctx, key_node,
                             "keys " + where + " must be plain names, got " + Describe(key_node));
    }
    const std::string& key = key_node.Scalar();
    if (std::find(allowed_keys.begin(), allowed_keys.end(), key) == allowed_keys.end()) {
      std::string message = "unknown key " + Quote(key) + " " + where;
      if (std::string near = ClosestMatch(key, allowed_keys); !near.empty()) {
        message += " (did you mean " + Quote(near) + "?)";
      } else {
        std::string known;
        for (const std::string& k : allowed_keys) known += (known.empty() ? "" : ", ") + k;
        message += " (known keys: " + known + ")";
      }
      return config::ErrorAt(ctx, key_node, message);
    }
    if (const Entry* first = reader.Find(key)) {
      return config::ErrorAt(ctx, key_node,
                             "duplicate key " + Quote(key) + " " + where + " (first at line " +
                                 std::to_string(first->key_node.Mark().line + 1) + ")");
    }
    reader.entries_.push_back(Entry{key, key_node, it->second});
    if (!it->second.IsNull()) ctx.set_keys.insert(reader.PathOf(key));
  }
  return reader;
}

const MapReader::Entry* MapReader::Find(std::string_view key) const {
  for (const Entry& e : entries_) {
    if (e.key == key) return &e;
  }
  return nullptr;
}

bool MapReader::Has(std::string_view key) const {
  const Entry* e = Find(key);
  return e != nullptr && !e->value.IsNull();
}

YAML::Node MapReader::Value(std::string_view key) const {
  const Entry* e = Find(key);
  return e != nullptr ? e->value : YAML::Node();
}

YAML::Node MapReader::Key(std::string_view key) const {
  const Entry* e = Find(key);
  return e != nullptr ? e->key_node : YAML::Node();
}

std::string MapReader::PathOf(std::string_view key) const {
  return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

Error MapReader::ErrorAt(std::string_view key, const std::string& message) const {
  const Entry* e = Find(key);
  if (e == nullptr) return Error{ctx_->source + ": " + message};
  const YAML::Mark mark = e->value.Mark();
  return config::ErrorAt(*ctx_, mark.line >= 0 ? e->value : e->key_node, message);
}

Result<std::string> MapReader::Scalar(std::string_view key, const std::string& what) const {
  const YAML::Node value = Value(key);
  if (!value.IsScalar()) {
    return ErrorAt(key, Quote(PathOf(key)) + " must be " + what + ", got " + Describe(value));
  }
  return value.Scalar();
}

Status MapReader::ReadBool(std::string_view key, bool& out) const {
  if (!Has(key)) return Status::Ok();
  Result<std::string> text = Scalar(key, "true or false");
  if (!text) return text.error();
  static const char* const kTrue[] = {"true", "True", "TRUE", "yes", "Yes",
                                      "YES",  "on",   "On",   "ON"};
  static const char* const kFalse[] = {"false", "False", "FALSE", "no", "No",
                                       "NO",    "off",   "Off",   "OFF"};
  for (const char* t : kTrue) {
    if (*text == t) {
      out = true;
      return Status::Ok();
    }
  }
  for (const char* f : kFalse) {
    if (*text == f) {
      out = false;
      return Status::Ok();
    }
  }
  return ErrorAt(key, Quote(PathOf(key)) + " must be true or false, got " + Quote(*text));
}

Status MapReader::ReadString(std::string_view key, std::string& out) const {
  if (!Has(key)) return Status::Ok();
  Result<std::string> text = Scalar(key, "a string");
  if (!text) return text.error();
  out = std::move(*text);
  return Status::Ok();
}

Status MapReader::ReadDuration(std::string_view key, std::uint64_t& out_ns, std::uint64_t min_ns,
                               std::uint64_t max_ns) const {
  if (!Has(key)) return Status::Ok();
  const std::string what = "a duration like 60s";
  Result<std::string> text = Scalar(key, what);
  if (!text) return text.error();
  Result<std::uint64_t> ns = ParseDurationNs(*text);
  if (!ns) {
    std::string message = Quote(PathOf(key)) + " must be " + what + ", got " + Quote(*text);
    if (IsBareNumber(*text)) message += " (a number needs a unit: ns, us, ms, s, m or h)";
    return ErrorAt(key, message);
  }
  if (*ns < min_ns || *ns > max_ns) {
    return ErrorAt(key, Quote(PathOf(key)) + " must be between " + DurationSpelling(min_ns) +
                            " and " + DurationSpelling(max_ns) + ", got " + Quote(*text));
  }
  out_ns = *ns;
  return Status::Ok();
}

Status MapReader::ReadByteSize(std::string_view key, std::uint64_t& out, std::uint64_t min) const {
  if (!Has(key)) return Status::Ok();
  const std::string what = "a size like 64MiB";
  Result<std::string> text = Scalar(key, what);
  if (!text) return text.error();
  Result<std::uint64_t> bytes = ParseByteSize(*text);
  if (!bytes) {
    return ErrorAt(key, Quote(PathOf(key)) + " must be " + what + ", got " + Quote(*text));
  }
  if (*bytes < min) {
    return ErrorAt(key, Quote(PathOf(key)) + " must be at least " + std::to_string(min) +
                            " bytes, got " + Quote(*text));
  }
  out = *bytes;
  return Status::Ok();
}

Status MapReader::ReadCount(std::string_view key, std::uint64_t& out, std::uint64_t min,
                            std::uint64_t max) const {
  if (!Has(key)) return Status::Ok();
  const std::string what =
      "a whole number from " + std::to_string(min) + " to " + std::to_string(max);
  Result<std::string> text = Scalar(key, what);
  if (!text) return text.error();
  std::uint64_t value = 0;
  const char* end = text->data() + text->size();
  auto [ptr, ec] = std::from_chars(text->data(), end, value);
  if (text->empty() || ec != std::errc() || ptr != end || value < min || value > max) {
    return ErrorAt(key, Quote(PathOf(key)) + " must be " + what + ", got " + Quote(*text));
  }
  out = value;
  return Status::Ok();
}

Status MapReader::ReadStringMap(std::string_view key, std::map<std::string, std::string>& out,
                                StringCheck check_name, StringCheck check_value) const {
  if (!Has(key)) return Status::Ok();
  const YAML::Node value = Value(key);
  if (!value.IsMap()) {
    return ErrorAt(
        key, Quote(PathOf(key)) + " must be a mapping of names to strings, got " + Describe(value));
  }
  std::map<std::string, std::string> read;
  for (auto it = value.begin(); it != value.end(); ++it) {
    if (!it->first.IsScalar() || it->first.Scalar().empty()) {
      return config::ErrorAt(*ctx_, it->first,
                             "names under " + Quote(PathOf(key)) + " must be non-empty strings");
    }
    if (!it->second.IsScalar()) {
      return config::ErrorAt(*ctx_, it->second,
                             Quote(PathOf(key) + "." + it->first.Scalar()) +
                                 " must be a string, got " + Describe(it->second));
    }
    const std::string& name = it->first.Scalar();
    if (std::string why = check_name ? check_name(name) : ""; !why.empty()) {
      return config::ErrorAt(*ctx_, it->first, Quote(PathOf(key)) + ": " + why);
    }
    if (std::string why = check_value ? check_value(it->second.Scalar()) : ""; !why.empty()) {
      std::string where = PathOf(key);
      where += '.';
      where += name;
      return config::ErrorAt(*ctx_, it->second, Quote(where) + ": " + why);
    }
    read[name] = it->second.Scalar();
  }
  for (auto& [k, v] : read) out[k] = std::move(v);
  return Status::Ok();
}

Result<MapReader> MapReader::Child(std::string_view key,
                                   std::vector<std::string> allowed_keys) const {
  return Open(*ctx_, Value(key), PathOf(key), std::move(allowed_keys));
}

}  // namespace waitscope::config
