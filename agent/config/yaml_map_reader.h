// MapReader: typed, position-aware reading of one YAML mapping of the agent
// config. Every error it returns is one line "SOURCE:LINE:COL: message" that
// points at the offending key or value (1-based, as editors count), and names
// the setting by its dotted path ("exports.otlp.timeout").
//
// Contract: Open() rejects keys that are not in the allowed list (suggesting
// the closest one) and duplicate keys, so a section that opened cleanly holds
// only known keys. A key whose value is null (`window:` with nothing after it)
// counts as absent: the default stays. Each key read with a value is recorded
// in ParseContext::set_keys, which is how the environment overlay knows what
// the file decided. yaml-cpp exceptions never leave this file.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace waitscope::config {

struct ParseContext {
  std::string source;              // file name shown in errors
  std::set<std::string> set_keys;  // dotted paths the file gave a value
};

// "SOURCE:LINE:COL: message" at `node` (just "SOURCE: message" when yaml-cpp
// gave the node no position).
Error ErrorAt(const ParseContext& ctx, const YAML::Node& node, const std::string& message);

class MapReader {
 public:
  // `node` must be a mapping or null (an empty section). `path` is the dotted
  // path of the section ("" for the top level).
  static Result<MapReader> Open(ParseContext& ctx, const YAML::Node& node, std::string path,
                                std::vector<std::string> allowed_keys);

  bool Has(std::string_view key) const;          // present with a non-null value
  YAML::Node Value(std::string_view key) const;  // a null node when absent
  YAML::Node Key(std::string_view key) const;    // the key itself, for positions
  std::string PathOf(std::string_view key) const;
  Error ErrorAt(std::string_view key, const std::string& message) const;
  const std::string& path() const { return path_; }
  ParseContext& context() const { return *ctx_; }

  // Each Read* leaves `out` untouched when the key is absent.
  Status ReadBool(std::string_view key, bool& out) const;
  Status ReadString(std::string_view key, std::string& out) const;
  Status ReadDuration(std::string_view key, std::uint64_t& out_ns, std::uint64_t min_ns,
                      std::uint64_t max_ns) const;
  Status ReadByteSize(std::string_view key, std::uint64_t& out, std::uint64_t min) const;
  Status ReadCount(std::string_view key, std::uint64_t& out, std::uint64_t min,
                   std::uint64_t max) const;
  // What is wrong with a name or value of a string map ("" when nothing is).
  using StringCheck = std::string (*)(std::string_view);
  // A mapping of strings; its entries replace same-named ones already in `out`.
  // `check_name`/`check_value` (optional) refuse an entry, at its position.
  Status ReadStringMap(std::string_view key, std::map<std::string, std::string>& out,
                       StringCheck check_name = nullptr, StringCheck check_value = nullptr) const;
  // The scalar text of `key`, or an error naming `what` it must be.
  Result<std::string> Scalar(std::string_view key, const std::string& what) const;

  Result<MapReader> Child(std::string_view key, std::vector<std::string> allowed_keys) const;

 private:
  struct Entry {
    std::string key;
    YAML::Node key_node;
    YAML::Node value;
  };
  MapReader(ParseContext& ctx, std::string path) : ctx_(&ctx), path_(std::move(path)) {}
  const Entry* Find(std::string_view key) const;

  ParseContext* ctx_;
  std::string path_;
  std::vector<Entry> entries_;
};

// "a list", "a mapping", "'text'", "nothing": what a node is, for messages.
std::string Describe(const YAML::Node& node);

}  // namespace waitscope::config
