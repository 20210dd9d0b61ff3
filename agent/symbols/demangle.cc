#include "symbols/demangle.h"

#include <cxxabi.h>

#include <cstdlib>
#include <memory>

namespace waitscope {

std::string Demangle(std::string_view name) {
  // Plain C names would otherwise be demangled as types ("i" -> "int").
  if (!name.starts_with("_Z")) return std::string(name);
  std::string mangled(name);  // __cxa_demangle needs a NUL-terminated string
  int status = 0;
  std::unique_ptr<char, decltype(&std::free)> demangled(
      abi::__cxa_demangle(mangled.c_str(), nullptr, nullptr, &status), &std::free);
  if (status != 0 || demangled == nullptr) return mangled;
  return std::string(demangled.get());
}

}  // namespace waitscope
