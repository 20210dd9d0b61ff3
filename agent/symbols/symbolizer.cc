#include "symbols/symbolizer.h"

#include <algorithm>
#include <cstdio>

#include "symbols/process_file.h"

namespace waitscope {

namespace {

std::string Hex(uint64_t value) {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "0x%llx", static_cast<unsigned long long>(value));
  return buf;
}

std::string Basename(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

Frame Symbolizer::Resolve(uint32_t pid, const ProcessMaps& maps, uint64_t addr,
                          bool is_return_address) {
  uint64_t lookup = is_return_address && addr > 0 ? addr - 1 : addr;
  const Mapping* m = maps.Find(lookup);
  if (m == nullptr) return Frame{"[unknown] " + Hex(addr), "[unknown]"};

  if (m->is_anonymous()) {
    if (m->executable) {
      if (auto name = PerfMapFor(pid).Lookup(lookup)) return Frame{std::move(*name), "[anon]"};
    }
    return Frame{"[anon] " + Hex(addr), "[anon]"};
  }
  if (m->path == "[vdso]" || m->path == "[vsyscall]") return Frame{m->path, m->path};
  if (m->is_pseudo()) return Frame{m->path + " " + Hex(addr), m->path};

  uint64_t lookup_offset = lookup - m->start + m->file_offset;
  if (auto symbols = SymbolsFor(pid, *m)) {
    if (auto vaddr = symbols->FileOffsetToVaddr(lookup_offset)) {
      if (auto name = symbols->Lookup(*vaddr)) return Frame{std::move(*name), m->path};
    }
  }
  // The offset of the address itself (not addr - 1) is what a person would
  // feed to addr2line after looking at a disassembly.
  return Frame{Basename(m->path) + "+" + Hex(addr - m->start + m->file_offset), m->path};
}

std::vector<Frame> Symbolizer::ResolveStack(uint32_t pid, const ProcessMaps& maps,
                                            const std::vector<uint64_t>& addrs) {
  std::vector<Frame> frames;
  frames.reserve(addrs.size());
  for (size_t i = 0; i < addrs.size(); ++i) {
    frames.push_back(Resolve(pid, maps, addrs[i], /*is_return_address=*/i > 0));
  }
  std::reverse(frames.begin(), frames.end());
  return frames;
}

void Symbolizer::ForgetProcess(uint32_t pid) {
  auto first = process_files_.lower_bound({pid, 0, std::string()});
  auto last = first;
  while (last != process_files_.end() && std::get<0>(last->first) == pid) ++last;
  process_files_.erase(first, last);
  perf_maps_.erase(pid);
}

std::shared_ptr<const ElfSymbols> Symbolizer::SymbolsFor(uint32_t pid, const Mapping& mapping) {
  auto key = std::make_tuple(pid, mapping.inode, mapping.path);
  if (auto it = process_files_.find(key); it != process_files_.end()) return it->second;

  std::shared_ptr<const ElfSymbols> symbols;
  if (auto path = FindMappedFile(pid, mapping)) {
    Result<std::shared_ptr<const ElfSymbols>> loaded = elf_cache_.Get(*path);
    if (loaded.ok()) symbols = *loaded;
  }
  process_files_.emplace(std::move(key), symbols);
  return symbols;
}

PerfMapFile& Symbolizer::PerfMapFor(uint32_t pid) {
  auto it = perf_maps_.find(pid);
  if (it == perf_maps_.end()) {
    std::string path = perf_map_dir_ + "/perf-" + std::to_string(pid) + ".map";
    it = perf_maps_.emplace(pid, PerfMapFile(std::move(path), pid)).first;
  }
  return it->second;
}

}  // namespace waitscope
