// ElfSymbols: the function symbols of one ELF object (executable or shared
// library), plus what is needed to map a file offset to an ELF virtual
// address: the object type and its PT_LOAD segments. Also carries the GNU
// build-id, which identifies the exact build for offline symbolization.
// Contract: Load() reads .symtab and .dynsym (STT_FUNC and STT_GNU_IFUNC,
// defined symbols only); a stripped object simply has fewer symbols, and an
// object with none still loads (Lookup then returns nothing). Symbols whose
// size is 0 are taken to extend to the next symbol (or the end of their
// segment). Immutable after Load(), so one instance can be shared freely.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"

namespace waitscope {

class ElfFile;

struct LoadSegment {
  uint64_t file_offset = 0;  // p_offset
  uint64_t vaddr = 0;        // p_vaddr
  uint64_t file_size = 0;    // p_filesz
  uint64_t mem_size = 0;     // p_memsz
  bool executable = false;   // PF_X
};

class ElfSymbols {
 public:
  static Result<ElfSymbols> Load(const std::string& path);
  static Result<ElfSymbols> Load(const ElfFile& file);

  // ET_EXEC (fixed addresses) or ET_DYN (PIE executables and shared libraries).
  uint16_t type() const { return type_; }
  // Lowercase hex of the NT_GNU_BUILD_ID note; empty when the object has none.
  const std::string& build_id() const { return build_id_; }
  const std::vector<LoadSegment>& segments() const { return segments_; }
  size_t symbol_count() const { return symbols_.size(); }

  // vaddr = offset - p_offset + p_vaddr of the PT_LOAD segment holding the
  // offset (executable segments preferred); nullopt when none holds it.
  std::optional<uint64_t> FileOffsetToVaddr(uint64_t file_offset) const;
  // Demangled name of the function containing elf_vaddr.
  std::optional<std::string> Lookup(uint64_t elf_vaddr) const;

 private:
  struct Symbol {
    uint64_t addr;
    uint64_t size;
    uint32_t name_offset;  // into names_; one pooled string keeps big tables small
  };

  void AddSymbol(uint64_t addr, uint64_t size, const char* name);
  void FinishSymbols();
  uint64_t SegmentEnd(uint64_t vaddr) const;

  uint16_t type_ = 0;
  std::string build_id_;
  std::vector<LoadSegment> segments_;
  std::vector<Symbol> symbols_;  // sorted by addr, unique addr
  std::string names_;            // NUL-separated mangled names
};

}  // namespace waitscope
