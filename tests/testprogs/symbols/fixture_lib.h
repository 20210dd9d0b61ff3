// Shared library used by the symbolizer tests: each function returns a
// return address inside itself, so the test can resolve a real code address
// of the library without depending on PLT/GOT details of &function.
#pragma once

#include <cstdint>

extern "C" std::uintptr_t ws_fixture_lib_function(int x);

namespace fixture_lib {
std::uintptr_t Scale(int x);
}  // namespace fixture_lib
