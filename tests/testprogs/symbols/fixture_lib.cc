#include "fixture_lib.h"

namespace {

volatile int g_lib_sink = 0;

__attribute__((noinline)) std::uintptr_t CallerPc() {
  return reinterpret_cast<std::uintptr_t>(__builtin_return_address(0));
}

}  // namespace

extern "C" std::uintptr_t ws_fixture_lib_function(int x) {
  std::uintptr_t pc = CallerPc();
  g_lib_sink = x;  // work after the call keeps it from becoming a tail call
  return pc;
}

namespace fixture_lib {

std::uintptr_t Scale(int x) {
  std::uintptr_t pc = CallerPc();
  g_lib_sink = x * 2;
  return pc;
}

}  // namespace fixture_lib
