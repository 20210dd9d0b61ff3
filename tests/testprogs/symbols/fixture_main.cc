// Symbolizer test fixture. Prints the runtime addresses of known functions
// (and return addresses captured inside them) followed by its own
// /proc/self/maps, so the test can symbolize real addresses under ASLR:
//   pid <pid>
//   func <key> <hex address of the function>
//   ret <key> <hex return address inside the function>
//   maps
//   <contents of /proc/self/maps>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "fixture_lib.h"

// A function without a .size directive: its ELF symbol has size 0 and must
// be taken to extend to the next symbol. Left out of the stripped fixture,
// where it would (correctly) extend over the unexported HiddenHelper.
#ifndef WS_FIXTURE_NO_SIZELESS
asm(R"(
  .text
  .globl ws_fixture_sizeless
  .type ws_fixture_sizeless, @function
ws_fixture_sizeless:
  nop
  nop
  ret
)");
#else
extern "C" void ws_fixture_sizeless() {}
#endif
extern "C" void ws_fixture_sizeless();

namespace {

volatile int g_sink = 0;
std::uintptr_t g_noreturn_ra = 0;

__attribute__((noinline)) std::uintptr_t CallerPc() {
  return reinterpret_cast<std::uintptr_t>(__builtin_return_address(0));
}

[[noreturn]] __attribute__((noinline)) void CaptureAndThrow() {
  g_noreturn_ra = reinterpret_cast<std::uintptr_t>(__builtin_return_address(0));
  throw 1;
}

}  // namespace

// Static (internal linkage): never exported, so a stripped binary has no
// name for it.
__attribute__((noinline, used)) static int HiddenHelper(int x) {
  g_sink = x;
  return x + 1;
}

namespace waitscope_fixture {

std::uintptr_t g_inner_ra = 0;

__attribute__((noinline)) int InnerWork(int x) {
  g_inner_ra = CallerPc();
  g_sink = x;
  return HiddenHelper(x) + 1;
}

// Its last instruction is the call, so the return address is one past the
// end of the function: only "addr - 1" attributes it correctly.
__attribute__((noinline)) void EndsWithCall() {
  CaptureAndThrow();
}

}  // namespace waitscope_fixture

extern "C" __attribute__((noinline)) int ws_fixture_c_function(int x) {
  return waitscope_fixture::InnerWork(x) * 2;
}

int main() {
  ws_fixture_c_function(3);
  ws_fixture_sizeless();
  try {
    waitscope_fixture::EndsWithCall();
  } catch (int) {
  }
  std::uintptr_t lib_c = ws_fixture_lib_function(1);
  std::uintptr_t lib_ns = fixture_lib::Scale(2);

  std::printf("pid %d\n", static_cast<int>(getpid()));
  std::printf("func ns %p\n", reinterpret_cast<void*>(&waitscope_fixture::InnerWork));
  std::printf("func c %p\n", reinterpret_cast<void*>(&ws_fixture_c_function));
  std::printf("func hidden %p\n", reinterpret_cast<void*>(&HiddenHelper));
  std::printf("func sizeless %p\n", reinterpret_cast<void*>(&ws_fixture_sizeless));
  std::printf("ret ns %#jx\n", static_cast<std::uintmax_t>(waitscope_fixture::g_inner_ra));
  std::printf("ret noreturn %#jx\n", static_cast<std::uintmax_t>(g_noreturn_ra));
  std::printf("ret lib_c %#jx\n", static_cast<std::uintmax_t>(lib_c));
  std::printf("ret lib_ns %#jx\n", static_cast<std::uintmax_t>(lib_ns));
  std::printf("maps\n");
  std::fflush(stdout);

  std::ifstream maps("/proc/self/maps");
  std::ostringstream text;
  text << maps.rdbuf();
  std::fputs(text.str().c_str(), stdout);
  return 0;
}
