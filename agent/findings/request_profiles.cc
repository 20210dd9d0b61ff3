#include "findings/request_profiles.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>

#include "export/flamegraph_svg.h"
#include "export/folded.h"

namespace waitscope::findings {
namespace {

constexpr const char* kFoldedFile = "requests.folded";
constexpr const char* kPprofFile = "requests.pb.gz";
constexpr const char* kSvgFile = "requests.svg";

constexpr std::string_view kOtherFrame = "(other)";

std::int64_t Clamp(std::uint64_t v) {
  constexpr auto kMax = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  return static_cast<std::int64_t>(v > kMax ? kMax : v);
}

std::string_view ProfileClass(WaitClass c) {
  switch (c) {
    case WaitClass::kDb:
    case WaitClass::kNet:
    case WaitClass::kDisk:
    case WaitClass::kLock:
    case WaitClass::kTls:
      return WaitClassName(c);
    default:
      return "other";
  }
}

std::string_view OrDash(std::string_view s) {
  return s.empty() ? std::string_view("-") : s;
}

}  // namespace

RequestProfileData::RequestProfileData(std::size_t max_nodes)
    : max_nodes_(std::max<std::size_t>(max_nodes, 2)) {
  Intern("all requests", "");
  nodes_.push_back(Node{});
  other_name_ = Intern(kOtherFrame, "");
}

std::uint32_t RequestProfileData::Intern(std::string_view name, std::string_view module) {
  if (const auto it = name_ids_.find(name); it != name_ids_.end()) return it->second;
  const auto id = static_cast<std::uint32_t>(names_.size());
  names_.emplace_back(name);
  modules_.emplace_back(module);
  name_ids_.emplace(std::string(name), id);
  return id;
}

std::uint32_t RequestProfileData::Child(std::uint32_t parent, std::string_view name,
                                        std::string_view module, bool& overflowed) {
  const auto key_of = [&](std::uint32_t name_id) {
    return (static_cast<std::uint64_t>(parent) << 32) | name_id;
  };
  if (const auto id = name_ids_.find(name); id != name_ids_.end()) {
    if (const auto it = children_.find(key_of(id->second)); it != children_.end()) {
      return it->second;
    }
  }
  std::uint32_t name_id = other_name_;
  if (nodes_.size() < max_nodes_) {
    name_id = Intern(name, module);
  } else {
    overflowed = true;
    if (const auto it = children_.find(key_of(name_id)); it != children_.end()) return it->second;
  }
  const auto node = static_cast<std::uint32_t>(nodes_.size());
  nodes_.push_back(Node{.name = name_id, .parent = parent});
  children_.emplace(key_of(name_id), node);
  return node;
}

void RequestProfileData::Step(std::uint32_t& node, bool& overflowed, std::string_view name,
                              std::string_view module) {
  if (!overflowed) node = Child(node, name, module, overflowed);
}

void RequestProfileData::Commit(std::uint32_t node, bool overflowed, std::uint64_t ns) {
  if (ns == 0) return;
  nodes_[node].self_ns += ns;
  ++nodes_[node].self_count;
  if (overflowed) overflow_ns_ += ns;
  for (std::uint32_t n = node;; n = nodes_[n].parent) {
    nodes_[n].total_ns += ns;
    if (n == kRoot) break;
  }
}

void RequestProfileData::AddWait(std::uint32_t endpoint, bool overflowed, const WaitSpan& w) {
  std::uint32_t node = endpoint;
  const std::string_view cls = ProfileClass(w.wait_class);
  Step(node, overflowed, cls);
  switch (w.wait_class) {
    case WaitClass::kDb:
      Step(node, overflowed, OrDash(w.statement.empty() ? w.target : w.statement));
      break;
    case WaitClass::kNet:
    case WaitClass::kTls:
    case WaitClass::kDisk:
      Step(node, overflowed, OrDash(w.target));
      break;
    case WaitClass::kLock:
      Step(node, overflowed, w.target.empty() || w.target == "-" ? OrDash(w.syscall) : w.target);
      break;
    default: {
      // Keep what "other" hides: "sleep clock_nanosleep", "pipe read".
      const std::string_view orig = WaitClassName(w.wait_class);
      scratch_.assign(orig);
      scratch_ += ' ';
      scratch_ += OrDash(w.syscall);
      Step(node, overflowed, orig == "other" ? OrDash(w.syscall) : std::string_view(scratch_));
      break;
    }
  }
  for (const Frame& f : w.frames) Step(node, overflowed, OrDash(f.name), f.module);
  Commit(node, overflowed, w.blocked_ns);
}

void RequestProfileData::AddRequest(const RequestRecord& r) {
  // An event loop's requests overlap on one thread: none of its time is theirs alone.
  if (!r.attributed) return;
  bool overflowed = false;
  std::uint32_t endpoint = kRoot;
  Step(endpoint, overflowed, r.endpoint.empty() ? std::string_view("(no endpoint)") : r.endpoint);
  ++nodes_[endpoint].requests;
  if (r.cpu_ns > 0) {
    std::uint32_t cpu = endpoint;
    bool cpu_overflowed = overflowed;
    Step(cpu, cpu_overflowed, "cpu");
    Commit(cpu, cpu_overflowed, r.cpu_ns);
  }
  for (const WaitSpan& w : r.waits) AddWait(endpoint, overflowed, w);
}

std::vector<std::vector<std::uint32_t>> RequestProfileData::Children() const {
  std::vector<std::vector<std::uint32_t>> out(nodes_.size());
  for (std::uint32_t i = 1; i < nodes_.size(); ++i) out[nodes_[i].parent].push_back(i);
  return out;
}

std::vector<std::string> RequestProfileData::Path(std::uint32_t node) const {
  std::vector<std::string> path;
  for (std::uint32_t n = node; n != kRoot; n = nodes_[n].parent)
    path.push_back(names_[nodes_[n].name]);
  std::reverse(path.begin(), path.end());
  return path;
}

std::vector<FoldedStack> RequestProfileData::Folded() const {
  std::vector<FoldedStack> out;
  for (std::uint32_t i = 1; i < nodes_.size(); ++i) {
    if (nodes_[i].self_ns == 0) continue;
    out.push_back(FoldedStack{.frames = Path(i), .value = nodes_[i].self_ns});
  }
  return out;
}

PprofProfile RequestProfileData::Pprof(std::int64_t start_unix_ns, std::int64_t duration_ns) const {
  PprofProfile p;
  p.sample_types = {{"spans", "count"}, {"time", "nanoseconds"}};
  p.default_sample_type = "time";
  p.time_nanos = start_unix_ns;
  p.duration_nanos = duration_ns;
  p.comments.push_back(
      "waitscope: request time by endpoint; class; statement, peer or path; user stack");
  for (std::uint32_t i = 1; i < nodes_.size(); ++i) {
    if (nodes_[i].self_ns == 0) continue;
    PprofSample s;
    for (std::uint32_t n = i; n != kRoot; n = nodes_[n].parent) {
      s.frames.push_back(Frame{names_[nodes_[n].name], modules_[nodes_[n].name]});
    }
    std::reverse(s.frames.begin(), s.frames.end());
    s.values = {Clamp(nodes_[i].self_count), Clamp(nodes_[i].self_ns)};
    s.str_labels.emplace_back("endpoint", s.frames.front().name);
    if (s.frames.size() > 1) s.str_labels.emplace_back("class", s.frames[1].name);
    p.samples.push_back(std::move(s));
  }
  return p;
}

Status WriteRequestProfiles(const RequestProfileData& data, const std::string& dir,
                            std::int64_t start_unix_ns, std::int64_t duration_ns) {
  const std::string base = dir + "/";
  const std::vector<FoldedStack> folded = data.Folded();
  if (Status s = WriteFolded(folded, base + kFoldedFile); !s.ok()) return s;
  if (Status s = WritePprof(data.Pprof(start_unix_ns, duration_ns), base + kPprofFile); !s.ok()) {
    return s;
  }
  FlameGraphOptions svg;
  svg.title = "waitscope: where request time went (endpoint, class, statement/peer/path, stack)";
  svg.root_name = "all requests";
  svg.palette = FlamePalette::kByKind;
  return WriteFlameGraphSvg(folded, svg, base + kSvgFile);
}

Status RemoveRequestProfiles(const std::string& dir) {
  for (const char* name : {kFoldedFile, kPprofFile, kSvgFile}) {
    const std::string path = dir + "/" + name;
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
      return Error{"cannot remove " + path +
                   " (left from an earlier recording): " + std::strerror(errno)};
    }
  }
  return Status::Ok();
}

}  // namespace waitscope::findings
