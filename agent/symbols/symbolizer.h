// Symbolizer: turns user-space instruction addresses of a process into Frames
// (function name + module), using the ELF symbol tables of the mapped files
// and, for JIT code in anonymous memory, the process's perf map.
// Contract: a frame never vanishes. Each address yields exactly one Frame:
//   - a known function: its demangled name, module = mapped file path;
//   - JIT code in an anonymous executable mapping named by /tmp/perf-PID.map:
//     that name, module "[anon]";
//   - otherwise in a file: "<basename>+0x<offset in the file>";
//   - "[vdso]"/"[vsyscall]": that name; other anonymous or pseudo memory:
//     "<module> 0x<addr>";
//   - no mapping at all: "[unknown] 0x<addr>", module "[unknown]".
// Parsed ELF files are cached and shared across processes (see elf_cache.h);
// per-process state (which file each mapping resolves to, perf maps) is kept
// until ForgetProcess(). Not thread-safe: meant to be driven from one thread.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "core/stack.h"
#include "symbols/elf_cache.h"
#include "symbols/perf_map.h"
#include "symbols/proc_maps.h"

namespace waitscope {

class Symbolizer {
 public:
  // perf_map_dir is where perf-PID.map files are looked for; tests override it.
  explicit Symbolizer(std::string perf_map_dir = "/tmp") : perf_map_dir_(std::move(perf_map_dir)) {}

  // is_return_address: addr was pushed by a call (every frame but the leaf),
  // so addr - 1 is looked up; a call that ends a function would otherwise be
  // attributed to the next function.
  Frame Resolve(uint32_t pid, const ProcessMaps& maps, uint64_t addr,
                bool is_return_address = false);

  // addrs is leaf first (as the kernel reports it); the result is root first
  // (as core/stack.h stores stacks) and has one Frame per address.
  std::vector<Frame> ResolveStack(uint32_t pid, const ProcessMaps& maps,
                                  const std::vector<uint64_t>& addrs);

  // Drops per-process state; call when a process exits so a recycled pid
  // does not inherit it.
  void ForgetProcess(uint32_t pid);

  size_t cached_files() const { return elf_cache_.size(); }

 private:
  std::shared_ptr<const ElfSymbols> SymbolsFor(uint32_t pid, const Mapping& mapping);
  PerfMapFile& PerfMapFor(uint32_t pid);

  std::string perf_map_dir_;
  ElfCache elf_cache_;
  // (pid, inode, path) -> symbols; nullptr remembers a file that could not be
  // read so it is not retried for every frame.
  std::map<std::tuple<uint32_t, uint64_t, std::string>, std::shared_ptr<const ElfSymbols>>
      process_files_;
  std::map<uint32_t, PerfMapFile> perf_maps_;
};

}  // namespace waitscope
