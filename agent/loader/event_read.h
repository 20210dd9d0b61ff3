// Copying fixed-size kernel events out of ring-buffer records. Records are
// not guaranteed to be aligned for the struct, and a short record (a bug or
// an ABI mismatch) must be refused, not read past: hence a checked memcpy.
#pragma once

#include <cstddef>
#include <cstring>
#include <span>
#include <type_traits>

namespace waitscope {

template <typename T>
bool ReadEvent(std::span<const std::byte> data, T& out) {
  static_assert(std::is_trivially_copyable_v<T>);
  if (data.size() < sizeof(T)) return false;
  std::memcpy(&out, data.data(), sizeof(T));
  return true;
}

}  // namespace waitscope
