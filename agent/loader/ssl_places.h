// Which places of one library file each OpenSSL program attaches to, from
// the functions found there. Several functions share a program (SSL_read_ex
// and its worker; every data function's return program), and aliases share
// an address: a program attached twice at one place would run twice per
// call and copy the bytes twice. So each program gets each place once, in
// the order first named. Generic over the program handle so tests can use
// plain values.
#pragma once

#include <algorithm>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "loader/probe.h"

namespace waitscope {

template <typename Program>
struct ProgramPlaces {
  Program program;
  bool retprobe = false;
  std::vector<std::uint64_t> offsets;  // file offsets, each once
};

// `programs_of(function)` returns the {entry, return} programs of a
// function, either of them null (a value equal to Program{}) when it has none.
template <typename Program, typename ProgramsOf>
std::vector<ProgramPlaces<Program>> GroupSslPlaces(std::span<const SslFunctionOffset> functions,
                                                   ProgramsOf&& programs_of) {
  std::vector<ProgramPlaces<Program>> groups;
  for (const SslFunctionOffset& f : functions) {
    const auto [entry, ret] = programs_of(f.function);
    for (const Program& program : {entry, ret}) {
      if (program == Program{}) continue;
      auto it = std::find_if(groups.begin(), groups.end(),
                             [&](const ProgramPlaces<Program>& g) { return g.program == program; });
      if (it == groups.end()) {
        it = groups.insert(groups.end(), ProgramPlaces<Program>{program, program == ret, {}});
      }
      if (std::find(it->offsets.begin(), it->offsets.end(), f.offset) == it->offsets.end()) {
        it->offsets.push_back(f.offset);
      }
    }
  }
  return groups;
}

}  // namespace waitscope
