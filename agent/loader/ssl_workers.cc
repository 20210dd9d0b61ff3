#include "loader/ssl_workers.h"

#include <algorithm>
#include <cstring>

namespace waitscope {
namespace {

constexpr std::uint8_t kEndbr64[] = {0xf3, 0x0f, 0x1e, 0xfa};
constexpr std::uint8_t kCallRel32 = 0xe8;
constexpr std::size_t kCallSize = 5;

bool StartsWith(std::span<const std::uint8_t> code, std::span<const std::uint8_t> prefix) {
  return code.size() >= prefix.size() &&
         std::memcmp(code.data(), prefix.data(), prefix.size()) == 0;
}

// The target of the `call rel32` at code[at], if there is one.
std::optional<std::uint64_t> CallTarget(CodeAt code, std::size_t at) {
  if (at + kCallSize > code.bytes.size() || code.bytes[at] != kCallRel32) return std::nullopt;
  std::int32_t rel = 0;
  std::memcpy(&rel, code.bytes.data() + at + 1, sizeof(rel));  // little-endian, as x86 is
  return code.vaddr + at + kCallSize + static_cast<std::int64_t>(rel);
}

}  // namespace

std::optional<std::uint64_t> FindSslWorker(CodeAt plain_wrapper, CodeAt ex_wrapper) {
  std::span<const std::uint8_t> ex = ex_wrapper.bytes;
  std::size_t at = 0;
  if (StartsWith(ex, kEndbr64)) at += sizeof(kEndbr64);
  // sub $imm8,%rsp: 48 83 ec ib (stack alignment before the call)
  if (at + 4 <= ex.size() && ex[at] == 0x48 && ex[at + 1] == 0x83 && ex[at + 2] == 0xec) at += 4;
  std::optional<std::uint64_t> worker = CallTarget(ex_wrapper, at);
  if (!worker) return std::nullopt;

  // The plain wrapper checks its int argument first, so its call comes later;
  // without an instruction decoder every byte position is tried. A stray e8
  // byte inside another instruction would have to encode exactly the same
  // target to be taken for the call.
  const std::size_t scan = std::min(plain_wrapper.bytes.size(), kSslWrapperScanBytes);
  for (std::size_t i = 0; i + kCallSize <= scan; ++i) {
    if (CallTarget(plain_wrapper, i) == worker) return worker;
  }
  return std::nullopt;
}

bool StartsWithEmulatedPush(std::span<const std::uint8_t> code) {
  if (!code.empty() && code[0] >= 0x50 && code[0] <= 0x57) return true;
  return code.size() >= 2 && code[0] == 0x41 && code[1] >= 0x50 && code[1] <= 0x57;
}

std::optional<std::size_t> EmulatedEntryProbeOffset(std::span<const std::uint8_t> code) {
  if (StartsWithEmulatedPush(code)) return 0;
  constexpr std::uint8_t kTestRdiRdi[] = {0x48, 0x85, 0xff};
  if (!StartsWith(code, kTestRdiRdi)) return std::nullopt;
  std::size_t at = sizeof(kTestRdiRdi);
  if (at + 2 <= code.size() && code[at] == 0x74) {  // je rel8
    at += 2;
  } else if (at + 6 <= code.size() && code[at] == 0x0f && code[at + 1] == 0x84) {  // je rel32
    at += 6;
  } else {
    return std::nullopt;
  }
  if (!StartsWithEmulatedPush(code.subspan(at))) return std::nullopt;
  return at;
}

}  // namespace waitscope
