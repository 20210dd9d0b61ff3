// Keys of `waitscope top`: bytes read from the terminal in raw mode become
// actions, and actions change the view state. Pure functions.
//
//   q Q       quit                  s / S      next / previous sort key
//   tab       next section focus    shift-tab  previous focus
//   1-5       focus that section    + / -      longer / shorter interval
//   ctrl-L    redraw
// Escape sequences (arrows, function keys) are skipped whole, so their bytes
// never read as letters; a sequence split across two reads may be misread as
// plain keys, which are then ignored unless they are one of the above.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "top/top_view.h"

namespace waitscope::top {

enum class KeyAction {
  kQuit,
  kNextSort,
  kPrevSort,
  kNextFocus,
  kPrevFocus,
  kFocus,  // Key::section
  kSlower,
  kFaster,
  kRedraw
};

struct Key {
  KeyAction action = KeyAction::kRedraw;
  Section section = Section::kProcesses;  // kFocus only
};

std::vector<Key> ParseKeys(std::string_view bytes);

// Applies `key` to `view`; returns false for kQuit (the loop ends).
bool ApplyKey(const Key& key, ViewState& view);

// The interval steps +/- move through, in seconds.
inline constexpr double kIntervalSteps[] = {0.25, 0.5, 1, 2, 5, 10};

}  // namespace waitscope::top
