#include "top/top_keys.h"

#include <algorithm>
#include <iterator>

namespace waitscope::top {
namespace {

constexpr char kEscape = 0x1b;
constexpr char kTab = '\t';
constexpr char kCtrlL = 0x0c;

// Index just past the escape sequence starting at bytes[i] (an ESC): CSI
// (ESC [ params final) and SS3 (ESC O x); a lone ESC is one byte.
std::size_t SkipEscape(std::string_view bytes, std::size_t i) {
  if (i + 1 >= bytes.size()) return i + 1;
  const char kind = bytes[i + 1];
  if (kind == 'O') return std::min(i + 3, bytes.size());
  if (kind != '[') return i + 2;  // ESC x (alt-x): skip both
  std::size_t j = i + 2;
  while (j < bytes.size()) {
    const auto c = static_cast<unsigned char>(bytes[j++]);
    if (c >= 0x40 && c <= 0x7e) break;  // final byte
  }
  return j;
}

}  // namespace

std::vector<Key> ParseKeys(std::string_view bytes) {
  std::vector<Key> keys;
  for (std::size_t i = 0; i < bytes.size();) {
    const char c = bytes[i];
    if (c == kEscape) {
      const std::size_t end = SkipEscape(bytes, i);
      if (bytes.substr(i, end - i) == "\x1b[Z") keys.push_back({KeyAction::kPrevFocus});
      i = end;
      continue;
    }
    ++i;
    switch (c) {
      case 'q':
      case 'Q':
        keys.push_back({KeyAction::kQuit});
        break;
      case 's':
        keys.push_back({KeyAction::kNextSort});
        break;
      case 'S':
        keys.push_back({KeyAction::kPrevSort});
        break;
      case kTab:
        keys.push_back({KeyAction::kNextFocus});
        break;
      case '+':
      case '=':
        keys.push_back({KeyAction::kSlower});
        break;
      case '-':
      case '_':
        keys.push_back({KeyAction::kFaster});
        break;
      case kCtrlL:
        keys.push_back({KeyAction::kRedraw});
        break;
      default:
        if (c >= '1' && c < static_cast<char>('1' + kSectionCount)) {
          keys.push_back({KeyAction::kFocus, kAllSections[static_cast<std::size_t>(c - '1')]});
        }
        break;
    }
  }
  return keys;
}

bool ApplyKey(const Key& key, ViewState& view) {
  const auto sort = static_cast<std::size_t>(view.sort);
  const auto focus = static_cast<std::size_t>(view.focus);
  switch (key.action) {
    case KeyAction::kQuit:
      return false;
    case KeyAction::kNextSort:
      view.sort = static_cast<SortKey>((sort + 1) % kSortKeyCount);
      break;
    case KeyAction::kPrevSort:
      view.sort = static_cast<SortKey>((sort + kSortKeyCount - 1) % kSortKeyCount);
      break;
    case KeyAction::kNextFocus:
      view.focus = static_cast<Section>((focus + 1) % kSectionCount);
      break;
    case KeyAction::kPrevFocus:
      view.focus = static_cast<Section>((focus + kSectionCount - 1) % kSectionCount);
      break;
    case KeyAction::kFocus:
      view.focus = key.section;
      break;
    case KeyAction::kSlower:
      for (double step : kIntervalSteps) {
        if (step > view.interval_s + 1e-9) {
          view.interval_s = step;
          break;
        }
      }
      break;
    case KeyAction::kFaster:
      for (auto it = std::rbegin(kIntervalSteps); it != std::rend(kIntervalSteps); ++it) {
        if (*it < view.interval_s - 1e-9) {
          view.interval_s = *it;
          break;
        }
      }
      break;
    case KeyAction::kRedraw:
      break;
  }
  return true;
}

}  // namespace waitscope::top
