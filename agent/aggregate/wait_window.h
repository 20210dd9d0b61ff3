// WaitWindow turns the kernel's cumulative wait rows into what each window
// added (WaitCollector::Collect with since_last_call).
//
// A row's count and time move independently, and not only up:
//  - a block found after its syscall was already counted adds time with no
//    count (docs/design.md, "Stacks of long waits");
//  - a syscall that crosses the stack threshold at a later block takes its
//    earlier blocks (one count and their time) back from the row of waits
//    without a stack, to count the whole wait in its stacked row.
// A window reports no negative amounts: what a row gave back is paid out of
// its next growth (its previous value is kept until the row passes it), so
// the windows of a row add up to its highest value. Rows are deleted only by
// Clear(), never behind our back. max_ns stays the all-time maximum (the
// kernel keeps no per-window one).
#pragma once

#include <array>
#include <map>

#include "waitscope/bpf/waits.h"

namespace waitscope {

class WaitWindow {
 public:
  // Replaces `val` (key's cumulative value) with what was added since the
  // previous call for the same key; false if nothing was.
  bool Advance(const ws_wait_key& key, ws_wait_val& val);

  // The kernel's rows were emptied: the next values start from zero.
  void Clear() { previous_.clear(); }

 private:
  // The kernel zeroes keys before filling them, so a key's bytes identify it.
  using KeyBytes = std::array<unsigned char, sizeof(ws_wait_key)>;
  std::map<KeyBytes, ws_wait_val> previous_;  // highest value reported per row
};

}  // namespace waitscope
