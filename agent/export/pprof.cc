#include "export/pprof.h"

#include <algorithm>
#include <limits>
#include <map>
#include <unordered_map>

#include "core/atomic_file.h"
#include "core/utf8.h"
#include "export/gzip.h"
#include "export/profile.pb.h"

namespace waitscope {
namespace {

namespace pb = perftools::profiles;

// Interns strings, functions, locations and mappings while samples are added,
// so each appears once in the output no matter how many stacks share it.
class ProfileBuilder {
 public:
  explicit ProfileBuilder(pb::Profile* out) : out_(out) { Str(""); }

  std::int64_t Str(const std::string& s) {
    auto [it, inserted] = strings_.try_emplace(s, static_cast<std::int64_t>(strings_.size()));
    // profile.proto's strings are proto3 `string`s: symbols and process
    // names are bytes, and a strict decoder rejects the profile over one.
    if (inserted) out_->add_string_table(ToValidUtf8(s));
    return it->second;
  }

  std::uint64_t LocationFor(const Frame& frame) {
    auto [it, inserted] = locations_.try_emplace({frame.name, frame.module}, 0);
    if (!inserted) return it->second;
    // Function and Location ids coincide because they are created in pairs.
    const std::uint64_t id = locations_.size();
    it->second = id;

    pb::Function* fn = out_->add_function();
    fn->set_id(id);
    fn->set_name(Str(frame.name));
    fn->set_system_name(fn->name());
    fn->set_filename(Str(frame.module));

    pb::Location* loc = out_->add_location();
    loc->set_id(id);
    loc->set_mapping_id(MappingFor(frame.module));
    loc->add_line()->set_function_id(id);
    return id;
  }

 private:
  std::uint64_t MappingFor(const std::string& module) {
    if (module.empty()) return 0;
    auto [it, inserted] = mappings_.try_emplace(module, mappings_.size() + 1);
    if (inserted) {
      pb::Mapping* m = out_->add_mapping();
      m->set_id(it->second);
      m->set_filename(Str(module));
      // We only have names, no addresses: these flags tell pprof the frames
      // are final, so it does not look for the binary to symbolize them.
      m->set_has_functions(true);
      m->set_has_filenames(true);
    }
    return it->second;
  }

  pb::Profile* out_;
  std::unordered_map<std::string, std::int64_t> strings_;
  std::map<std::pair<std::string, std::string>, std::uint64_t> locations_;
  std::unordered_map<std::string, std::uint64_t> mappings_;
};

Status Validate(const PprofProfile& profile) {
  if (profile.sample_types.empty()) return Error{"pprof: profile has no sample types"};
  for (std::size_t i = 0; i < profile.samples.size(); ++i) {
    if (profile.samples[i].values.size() != profile.sample_types.size()) {
      return Error{"pprof: sample " + std::to_string(i) + " has " +
                   std::to_string(profile.samples[i].values.size()) + " values for " +
                   std::to_string(profile.sample_types.size()) + " sample types"};
    }
  }
  if (!profile.default_sample_type.empty() &&
      std::none_of(profile.sample_types.begin(), profile.sample_types.end(),
                   [&](const auto& t) { return t.first == profile.default_sample_type; })) {
    return Error{"pprof: default sample type '" + profile.default_sample_type +
                 "' is not one of the sample types"};
  }
  return Status::Ok();
}

}  // namespace

PprofProfile PprofFromFolded(const std::vector<FoldedStack>& stacks, std::string type,
                             std::string unit) {
  PprofProfile profile;
  profile.sample_types.emplace_back(std::move(type), std::move(unit));
  profile.samples.reserve(stacks.size());
  constexpr auto kMax = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  for (const FoldedStack& stack : stacks) {
    PprofSample sample;
    sample.frames.reserve(stack.frames.size());
    for (const std::string& name : stack.frames) sample.frames.push_back(Frame{name, ""});
    sample.values.push_back(static_cast<std::int64_t>(std::min(stack.value, kMax)));
    profile.samples.push_back(std::move(sample));
  }
  return profile;
}

Result<std::string> EncodePprof(const PprofProfile& profile) {
  if (Status st = Validate(profile); !st.ok()) return st.error();

  pb::Profile out;
  ProfileBuilder builder(&out);
  for (const auto& [type, unit] : profile.sample_types) {
    pb::ValueType* vt = out.add_sample_type();
    vt->set_type(builder.Str(type));
    vt->set_unit(builder.Str(unit));
  }
  for (const PprofSample& in : profile.samples) {
    pb::Sample* sample = out.add_sample();
    for (auto it = in.frames.rbegin(); it != in.frames.rend(); ++it) {
      sample->add_location_id(builder.LocationFor(*it));
    }
    for (std::int64_t v : in.values) sample->add_value(v);
    for (const auto& [key, value] : in.str_labels) {
      pb::Label* label = sample->add_label();
      label->set_key(builder.Str(key));
      label->set_str(builder.Str(value));
    }
    for (const auto& [key, value] : in.num_labels) {
      pb::Label* label = sample->add_label();
      label->set_key(builder.Str(key));
      label->set_num(value);
    }
  }
  out.set_time_nanos(profile.time_nanos);
  out.set_duration_nanos(profile.duration_nanos);
  if (!profile.period_type.first.empty()) {
    out.mutable_period_type()->set_type(builder.Str(profile.period_type.first));
    out.mutable_period_type()->set_unit(builder.Str(profile.period_type.second));
    out.set_period(profile.period);
  }
  for (const std::string& comment : profile.comments) out.add_comment(builder.Str(comment));
  if (!profile.default_sample_type.empty()) {
    out.set_default_sample_type(builder.Str(profile.default_sample_type));
  }

  std::string serialized;
  if (!out.SerializeToString(&serialized)) return Error{"pprof: cannot serialize the profile"};
  return GzipCompress(serialized);
}

Status WritePprof(const PprofProfile& profile, const std::string& path) {
  Result<std::string> bytes = EncodePprof(profile);
  if (!bytes.ok()) return bytes.error();
  return WriteFileAtomically(path, *bytes);
}

}  // namespace waitscope
