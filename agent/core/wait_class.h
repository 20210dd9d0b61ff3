// Wait classes: the causes a blocked thread is attributed to. The names are
// part of the report contract (report.json `waits[].class`), so they must not
// change.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace waitscope {

enum class WaitClass : std::uint8_t {
  kDisk,
  kNet,
  kDb,
  kTls,
  kLock,
  kSleep,
  kPoll,
  kPipe,
  kOther,
};

constexpr std::string_view WaitClassName(WaitClass c) {
  switch (c) {
    case WaitClass::kDisk:
      return "disk";
    case WaitClass::kNet:
      return "net";
    case WaitClass::kDb:
      return "db";
    case WaitClass::kTls:
      return "tls";
    case WaitClass::kLock:
      return "lock";
    case WaitClass::kSleep:
      return "sleep";
    case WaitClass::kPoll:
      return "poll";
    case WaitClass::kPipe:
      return "pipe";
    case WaitClass::kOther:
      return "other";
  }
  return "other";
}

std::optional<WaitClass> ParseWaitClass(std::string_view name);

}  // namespace waitscope
