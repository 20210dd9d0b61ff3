// Demangle: turns an Itanium C++ ABI symbol ("_ZN3foo3barEi") into its
// source form ("foo::bar(int)") with abi::__cxa_demangle.
// Contract: never fails; a name that is not mangled, or that the demangler
// rejects, is returned unchanged so a frame always has some name.
#pragma once

#include <string>
#include <string_view>

namespace waitscope {

std::string Demangle(std::string_view name);

}  // namespace waitscope
