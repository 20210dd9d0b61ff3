#include "core/wait_class.h"

#include <array>

namespace waitscope {

std::optional<WaitClass> ParseWaitClass(std::string_view name) {
  static constexpr std::array kAll = {WaitClass::kDisk, WaitClass::kNet,  WaitClass::kDb,
                                      WaitClass::kTls,  WaitClass::kLock, WaitClass::kSleep,
                                      WaitClass::kPoll, WaitClass::kPipe, WaitClass::kOther};
  for (WaitClass c : kAll) {
    if (WaitClassName(c) == name) return c;
  }
  return std::nullopt;
}

}  // namespace waitscope
