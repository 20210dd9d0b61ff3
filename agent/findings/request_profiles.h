// Request-path profile: where the time of each endpoint's requests went, as a
// tree built incrementally from RequestRecords, and its three files.
//
// Frame layout (root first), the same in requests.folded, requests.pb.gz and
// requests.svg:
//   endpoint ("POST /signup")
//   ; class: cpu, db, net, disk, lock, tls, other (sleep, poll and pipe are
//     folded into "other", the classes of RequestBreakdown, so the profile and
//     http[].breakdown_us add up the same way)
//   ; detail: the statement (db; the peer when no statement matched), the peer
//     (net, tls), the path (disk), the syscall or lock target (lock), and for
//     "other" the original class and syscall ("sleep clock_nanosleep")
//   ; the user stack of the wait, root first (none for cpu).
// Values are nanoseconds summed over requests; CPU time is "endpoint;cpu".
// Requests served by an event loop (not attributed) are left out.
//
// Memory: at most max_nodes distinct frames-in-context (trie nodes). Once the
// budget is spent, a stack that needs a new node ends in an "(other)" child of
// the deepest node it reached (one per parent, so at most 2 * max_nodes nodes);
// overflow_ns() says how much time went there.
//
// Not thread-safe: one thread adds; the readers are const.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/result.h"
#include "core/stack.h"
#include "export/pprof.h"
#include "findings/request_record.h"
#include "findings/request_stats.h"

namespace waitscope::findings {

class RequestProfileData {
 public:
  static constexpr std::size_t kDefaultMaxNodes = 100'000;
  static constexpr std::uint32_t kRoot = 0;

  struct Node {
    std::uint32_t name = 0;  // index into names()
    std::uint32_t parent = 0;
    std::uint64_t total_ns = 0;    // this frame and everything above it
    std::uint64_t self_ns = 0;     // stacks that end here
    std::uint64_t self_count = 0;  // waits (or requests, for cpu) that end here
    std::uint64_t requests = 0;    // endpoint frames only: requests seen
  };

  explicit RequestProfileData(std::size_t max_nodes = kDefaultMaxNodes);

  void AddRequest(const RequestRecord& r);

  const std::vector<Node>& nodes() const { return nodes_; }
  const std::string& name(std::uint32_t id) const { return names_[id]; }
  // Children of every node, built on demand (readers only).
  std::vector<std::vector<std::uint32_t>> Children() const;
  // Frame names from the endpoint down to `node`.
  std::vector<std::string> Path(std::uint32_t node) const;
  std::uint64_t overflow_ns() const { return overflow_ns_; }
  bool empty() const { return nodes_.size() <= 1; }

  std::vector<FoldedStack> Folded() const;
  // Sample types: spans/count (waits, or requests for cpu) and time/nanoseconds
  // (the default); labels: endpoint, class.
  PprofProfile Pprof(std::int64_t start_unix_ns, std::int64_t duration_ns) const;

 private:
  std::uint32_t Intern(std::string_view name, std::string_view module);
  // The child `name` of `parent`, created if the budget allows, else its "(other)" child.
  std::uint32_t Child(std::uint32_t parent, std::string_view name, std::string_view module,
                      bool& overflowed);
  void Step(std::uint32_t& node, bool& overflowed, std::string_view name,
            std::string_view module = {});
  void Commit(std::uint32_t node, bool overflowed, std::uint64_t ns);
  void AddWait(std::uint32_t endpoint, bool overflowed, const WaitSpan& w);

  std::size_t max_nodes_;
  std::vector<Node> nodes_;
  std::vector<std::string> names_;
  std::vector<std::string> modules_;  // first module seen with each name
  std::unordered_map<std::string, std::uint32_t, StringHash, std::equal_to<>> name_ids_;
  std::unordered_map<std::uint64_t, std::uint32_t> children_;  // (parent << 32 | name) -> node
  std::uint32_t other_name_ = 0;
  std::uint64_t overflow_ns_ = 0;
  std::string scratch_;
};

// Writes DIR/requests.folded, DIR/requests.pb.gz and DIR/requests.svg. DIR
// must exist (output/report_dir.h PrepareOutputDir).
Status WriteRequestProfiles(const RequestProfileData& data, const std::string& dir,
                            std::int64_t start_unix_ns, std::int64_t duration_ns);

// Removes the three files from `dir` (a report directory written again by a
// run that had no attributed request must not keep an older run's). Missing
// files are fine.
Status RemoveRequestProfiles(const std::string& dir);

}  // namespace waitscope::findings
