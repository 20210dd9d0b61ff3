#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <fstream>
#include <limits>
#include <map>
#include <set>
#include <sstream>

#include "export/pprof.h"
#include "export/profile.pb.h"

namespace waitscope {
namespace {

namespace pb = perftools::profiles;

// Independent of the writer's gzip code: inflate with zlib's gzip-only mode
// (windowBits 15 + 16), so a raw deflate or zlib-wrapped stream fails here.
Result<std::string> Gunzip(const std::string& in) {
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 16) != Z_OK) return Error{"inflateInit2"};
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  std::string out;
  char buf[4096];
  int rc = Z_OK;
  while (rc == Z_OK) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof(buf);
    rc = inflate(&zs, Z_NO_FLUSH);
    out.append(buf, sizeof(buf) - zs.avail_out);
  }
  const bool all_used = zs.avail_in == 0;
  inflateEnd(&zs);
  if (rc != Z_STREAM_END || !all_used) return Error{"gunzip failed: " + std::to_string(rc)};
  return out;
}

Result<pb::Profile> DecodePprof(const std::string& gz) {
  Result<std::string> raw = Gunzip(gz);
  if (!raw.ok()) return raw.error();
  pb::Profile p;
  if (!p.ParseFromString(*raw)) return Error{"not a Profile message"};
  return p;
}

class Decoded {
 public:
  explicit Decoded(const pb::Profile& p) : p_(p) {}
  std::string Str(std::int64_t i) const {
    EXPECT_GE(i, 0);
    EXPECT_LT(i, p_.string_table_size());
    return i >= 0 && i < p_.string_table_size() ? p_.string_table(static_cast<int>(i)) : "<bad>";
  }
  const pb::Function* FunctionOf(std::uint64_t location_id) const {
    for (const pb::Location& loc : p_.location()) {
      if (loc.id() != location_id) continue;
      EXPECT_EQ(loc.line_size(), 1);
      for (const pb::Function& fn : p_.function()) {
        if (loc.line_size() > 0 && fn.id() == loc.line(0).function_id()) return &fn;
      }
    }
    ADD_FAILURE() << "location " << location_id << " does not resolve to a function";
    return nullptr;
  }
  // (name, module) leaf first, as stored.
  std::vector<Frame> Stack(const pb::Sample& s) const {
    std::vector<Frame> out;
    for (std::uint64_t id : s.location_id()) {
      const pb::Function* fn = FunctionOf(id);
      if (fn != nullptr) out.push_back(Frame{Str(fn->name()), Str(fn->filename())});
    }
    return out;
  }

 private:
  const pb::Profile& p_;
};

PprofProfile SampleProfile() {
  PprofProfile prof;
  prof.sample_types = {{"waits", "count"}, {"wait", "nanoseconds"}};
  prof.default_sample_type = "wait";
  prof.time_nanos = 1700000000000000000;
  prof.duration_nanos = 10'000'000'000;
  prof.comments = {"waitscope test"};
  prof.samples.push_back(
      PprofSample{{{"main", "/usr/bin/app"}, {"serve", "/usr/bin/app"}, {"read", "/lib/libc.so.6"}},
                  {3, 3'000'000},
                  {{"wait_class", "disk"}, {"comm", "app"}},
                  {{"pid", 42}}});
  prof.samples.push_back(
      PprofSample{{{"main", "/usr/bin/app"}, {"accept", "/lib/libc.so.6"}}, {1, 500}, {}, {}});
  // Same name, other module: must be a different function.
  prof.samples.push_back(
      PprofSample{{{"main", "/usr/bin/other"}}, {2, 7'000}, {{"wait_class", "net"}}, {}});
  // No module at all.
  prof.samples.push_back(PprofSample{{{"[unknown]", ""}}, {1, 1}, {}, {}});
  return prof;
}

TEST(ExportPprof, OutputIsGzipNotRawDeflate) {
  Result<std::string> gz = EncodePprof(SampleProfile());
  ASSERT_TRUE(gz.ok()) << gz.error().message;
  ASSERT_GE(gz->size(), 18u);
  EXPECT_EQ(static_cast<unsigned char>((*gz)[0]), 0x1f);
  EXPECT_EQ(static_cast<unsigned char>((*gz)[1]), 0x8b);
  EXPECT_EQ((*gz)[2], 8);  // deflate
}

TEST(ExportPprof, RoundTripKeepsTypesValuesAndHeader) {
  const PprofProfile in = SampleProfile();
  Result<std::string> gz = EncodePprof(in);
  ASSERT_TRUE(gz.ok()) << gz.error().message;
  Result<pb::Profile> p = DecodePprof(*gz);
  ASSERT_TRUE(p.ok()) << p.error().message;
  Decoded d(*p);

  ASSERT_GT(p->string_table_size(), 0);
  EXPECT_EQ(p->string_table(0), "");
  ASSERT_EQ(p->sample_type_size(), 2);
  EXPECT_EQ(d.Str(p->sample_type(0).type()), "waits");
  EXPECT_EQ(d.Str(p->sample_type(0).unit()), "count");
  EXPECT_EQ(d.Str(p->sample_type(1).type()), "wait");
  EXPECT_EQ(d.Str(p->sample_type(1).unit()), "nanoseconds");
  EXPECT_EQ(d.Str(p->default_sample_type()), "wait");
  EXPECT_EQ(p->time_nanos(), in.time_nanos);
  EXPECT_EQ(p->duration_nanos(), in.duration_nanos);
  ASSERT_EQ(p->comment_size(), 1);
  EXPECT_EQ(d.Str(p->comment(0)), "waitscope test");
  EXPECT_FALSE(p->has_period_type());

  std::int64_t want[2] = {0, 0}, got[2] = {0, 0};
  for (const PprofSample& s : in.samples) {
    for (int t = 0; t < 2; ++t) want[t] += s.values[static_cast<std::size_t>(t)];
  }
  ASSERT_EQ(p->sample_size(), static_cast<int>(in.samples.size()));
  for (const pb::Sample& s : p->sample()) {
    ASSERT_EQ(s.value_size(), 2);
    for (int t = 0; t < 2; ++t) got[t] += s.value(t);
  }
  EXPECT_EQ(got[0], want[0]);
  EXPECT_EQ(got[1], want[1]);
}

TEST(ExportPprof, LocationsAreLeafFirstAndResolveThroughStringTable) {
  const PprofProfile in = SampleProfile();
  Result<pb::Profile> p = DecodePprof(EncodePprof(in).value());
  ASSERT_TRUE(p.ok()) << p.error().message;
  Decoded d(*p);
  ASSERT_EQ(p->sample_size(), static_cast<int>(in.samples.size()));
  for (int i = 0; i < p->sample_size(); ++i) {
    std::vector<Frame> want = in.samples[static_cast<std::size_t>(i)].frames;
    std::reverse(want.begin(), want.end());
    EXPECT_EQ(d.Stack(p->sample(i)), want) << "sample " << i;
  }
  // Spelled out once, so a wrong reversal in the check above cannot hide one
  // in the writer.
  EXPECT_EQ(d.Stack(p->sample(0)).front().name, "read");
  EXPECT_EQ(d.Stack(p->sample(0)).back().name, "main");
}

TEST(ExportPprof, SymbolsThatAreNotUtf8StillDecode) {
  // ELF symbol names and process names are bytes; profile.proto's strings are
  // proto3 `string`s, which a strict decoder (this one) refuses otherwise.
  PprofProfile prof = SampleProfile();
  prof.samples.push_back(
      PprofSample{{{"\xff\xfeweird", "/tmp/\x80lib.so"}}, {1, 10}, {{"comm", "\xc0\xaf"}}, {}});
  Result<pb::Profile> p = DecodePprof(EncodePprof(prof).value());
  ASSERT_TRUE(p.ok()) << p.error().message;
  Decoded d(*p);
  const std::vector<Frame> stack = d.Stack(p->sample(p->sample_size() - 1));
  ASSERT_EQ(stack.size(), 1u);
  EXPECT_EQ(stack[0].name, "\xEF\xBF\xBD\xEF\xBF\xBDweird");
  EXPECT_EQ(stack[0].module, "/tmp/\xEF\xBF\xBDlib.so");
}

TEST(ExportPprof, OneFunctionAndLocationPerNameAndModule) {
  Result<pb::Profile> p = DecodePprof(EncodePprof(SampleProfile()).value());
  ASSERT_TRUE(p.ok());
  Decoded d(*p);
  // main@app, serve, read, accept, main@other, [unknown]
  EXPECT_EQ(p->function_size(), 6);
  EXPECT_EQ(p->location_size(), 6);
  std::set<std::uint64_t> ids;
  std::set<std::pair<std::string, std::string>> keys;
  for (const pb::Function& fn : p->function()) {
    EXPECT_GE(fn.id(), 1u);
    ids.insert(fn.id());
    keys.insert({d.Str(fn.name()), d.Str(fn.filename())});
    EXPECT_EQ(fn.system_name(), fn.name());
  }
  EXPECT_EQ(ids.size(), 6u);
  EXPECT_EQ(keys.size(), 6u);
  EXPECT_TRUE(keys.count({"main", "/usr/bin/app"}));
  EXPECT_TRUE(keys.count({"main", "/usr/bin/other"}));
  for (const pb::Location& loc : p->location()) EXPECT_GE(loc.id(), 1u);
  // Location ids used by samples all exist.
  for (const pb::Sample& s : p->sample()) {
    for (std::uint64_t id : s.location_id()) EXPECT_NE(d.FunctionOf(id), nullptr);
  }
}

TEST(ExportPprof, OneSymbolizedMappingPerModule) {
  Result<pb::Profile> p = DecodePprof(EncodePprof(SampleProfile()).value());
  ASSERT_TRUE(p.ok());
  Decoded d(*p);
  std::map<std::uint64_t, std::string> mapping_file;
  for (const pb::Mapping& m : p->mapping()) {
    EXPECT_GE(m.id(), 1u);
    EXPECT_TRUE(m.has_functions());
    mapping_file[m.id()] = d.Str(m.filename());
  }
  EXPECT_EQ(mapping_file.size(), 3u);  // app, libc, other; none for ""
  for (const pb::Location& loc : p->location()) {
    const pb::Function* fn = d.FunctionOf(loc.id());
    ASSERT_NE(fn, nullptr);
    const std::string module = d.Str(fn->filename());
    if (module.empty()) {
      EXPECT_EQ(loc.mapping_id(), 0u);
    } else {
      EXPECT_EQ(mapping_file[loc.mapping_id()], module);
    }
  }
}

TEST(ExportPprof, LabelsArePresent) {
  Result<pb::Profile> p = DecodePprof(EncodePprof(SampleProfile()).value());
  ASSERT_TRUE(p.ok());
  Decoded d(*p);
  const pb::Sample& s = p->sample(0);
  std::map<std::string, std::string> str;
  std::map<std::string, std::int64_t> num;
  for (const pb::Label& l : s.label()) {
    if (l.str() != 0) {
      str[d.Str(l.key())] = d.Str(l.str());
    } else {
      num[d.Str(l.key())] = l.num();
    }
  }
  EXPECT_EQ(str, (std::map<std::string, std::string>{{"wait_class", "disk"}, {"comm", "app"}}));
  EXPECT_EQ(num, (std::map<std::string, std::int64_t>{{"pid", 42}}));
  EXPECT_EQ(p->sample(1).label_size(), 0);
  ASSERT_EQ(p->sample(2).label_size(), 1);
  EXPECT_EQ(d.Str(p->sample(2).label(0).str()), "net");
}

TEST(ExportPprof, StringsAreInterned) {
  Result<pb::Profile> p = DecodePprof(EncodePprof(SampleProfile()).value());
  ASSERT_TRUE(p.ok());
  std::set<std::string> unique(p->string_table().begin(), p->string_table().end());
  EXPECT_EQ(unique.size(), static_cast<std::size_t>(p->string_table_size()));
}

TEST(ExportPprof, PeriodIsWrittenWhenGiven) {
  PprofProfile in = SampleProfile();
  in.period_type = {"wait", "nanoseconds"};
  in.period = 1000;
  Result<pb::Profile> p = DecodePprof(EncodePprof(in).value());
  ASSERT_TRUE(p.ok());
  Decoded d(*p);
  EXPECT_EQ(d.Str(p->period_type().type()), "wait");
  EXPECT_EQ(d.Str(p->period_type().unit()), "nanoseconds");
  EXPECT_EQ(p->period(), 1000);
}

TEST(ExportPprof, RejectsInconsistentProfiles) {
  PprofProfile wrong_count = SampleProfile();
  wrong_count.samples[1].values.push_back(5);
  Result<std::string> r1 = EncodePprof(wrong_count);
  ASSERT_FALSE(r1.ok());
  EXPECT_NE(r1.error().message.find("sample 1"), std::string::npos) << r1.error().message;

  PprofProfile bad_default = SampleProfile();
  bad_default.default_sample_type = "cpu";
  EXPECT_FALSE(EncodePprof(bad_default).ok());

  PprofProfile no_types;
  EXPECT_FALSE(EncodePprof(no_types).ok());
}

TEST(ExportPprof, EmptyProfileIsValid) {
  PprofProfile in;
  in.sample_types = {{"wait", "nanoseconds"}};
  Result<pb::Profile> p = DecodePprof(EncodePprof(in).value());
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->sample_size(), 0);
  EXPECT_EQ(p->string_table(0), "");
}

TEST(ExportPprof, FromFoldedKeepsFramesAndClampsValues) {
  const std::uint64_t huge = std::numeric_limits<std::uint64_t>::max();
  const PprofProfile prof =
      PprofFromFolded({{{"a", "b"}, 10}, {{"c"}, huge}}, "wait", "nanoseconds");
  ASSERT_EQ(prof.sample_types.size(), 1u);
  EXPECT_EQ(prof.sample_types[0], (std::pair<std::string, std::string>{"wait", "nanoseconds"}));
  ASSERT_EQ(prof.samples.size(), 2u);
  EXPECT_EQ(prof.samples[0].frames, (std::vector<Frame>{{"a", ""}, {"b", ""}}));
  EXPECT_EQ(prof.samples[0].values, std::vector<std::int64_t>{10});
  EXPECT_EQ(prof.samples[1].values,
            std::vector<std::int64_t>{std::numeric_limits<std::int64_t>::max()});

  Result<pb::Profile> p = DecodePprof(EncodePprof(prof).value());
  ASSERT_TRUE(p.ok());
  Decoded d(*p);
  EXPECT_EQ(d.Stack(p->sample(0)), (std::vector<Frame>{{"b", ""}, {"a", ""}}));
}

TEST(ExportPprof, EncodingIsDeterministic) {
  EXPECT_EQ(EncodePprof(SampleProfile()).value(), EncodePprof(SampleProfile()).value());
}

TEST(ExportPprof, WritePprofWritesTheEncodedBytes) {
  const std::string path =
      ::testing::TempDir() + "/export_pprof_" + std::to_string(::getpid()) + ".pb.gz";
  ASSERT_TRUE(WritePprof(SampleProfile(), path).ok());
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  EXPECT_EQ(ss.str(), EncodePprof(SampleProfile()).value());
  ::unlink(path.c_str());

  PprofProfile bad = SampleProfile();
  bad.sample_types.clear();
  EXPECT_FALSE(WritePprof(bad, path).ok());
  EXPECT_NE(::access(path.c_str(), F_OK), 0) << "a failed encode must not create the file";
}

}  // namespace
}  // namespace waitscope
