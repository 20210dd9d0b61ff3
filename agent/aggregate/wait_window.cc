#include "aggregate/wait_window.h"

#include <cstring>

namespace waitscope {
namespace {

// What `now` adds to `high`, the highest value reported so far (0 while a
// decrease is being paid back).
__u64 Growth(__u64 now, __u64& high) {
  if (now <= high) return 0;
  const __u64 added = now - high;
  high = now;
  return added;
}

}  // namespace

bool WaitWindow::Advance(const ws_wait_key& key, ws_wait_val& val) {
  KeyBytes raw;
  std::memcpy(raw.data(), &key, sizeof(key));
  ws_wait_val& high = previous_[raw];
  val.count = Growth(val.count, high.count);
  val.total_ns = Growth(val.total_ns, high.total_ns);
  return val.count != 0 || val.total_ns != 0;
}

}  // namespace waitscope
