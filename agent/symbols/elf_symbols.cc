#include "symbols/elf_symbols.h"

#include <gelf.h>

#include <algorithm>
#include <cstring>

#include "symbols/demangle.h"
#include "symbols/elf_file.h"

namespace waitscope {

namespace {

std::string ToHex(const unsigned char* data, size_t size) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (size_t i = 0; i < size; ++i) {
    out.push_back(kDigits[data[i] >> 4]);
    out.push_back(kDigits[data[i] & 0xf]);
  }
  return out;
}

std::string ReadBuildId(Elf_Data* data) {
  GElf_Nhdr nhdr;
  size_t name_offset = 0;
  size_t desc_offset = 0;
  size_t offset = 0;
  while ((offset = gelf_getnote(data, offset, &nhdr, &name_offset, &desc_offset)) > 0) {
    const char* base = static_cast<const char*>(data->d_buf);
    if (nhdr.n_type == NT_GNU_BUILD_ID && nhdr.n_namesz == 4 &&
        std::memcmp(base + name_offset, "GNU", 4) == 0) {
      return ToHex(reinterpret_cast<const unsigned char*>(base + desc_offset), nhdr.n_descsz);
    }
  }
  return {};
}

}  // namespace

Result<ElfSymbols> ElfSymbols::Load(const std::string& path) {
  Result<ElfFile> file = ElfFile::Open(path);
  if (!file.ok()) return file.error();
  return Load(*file);
}

Result<ElfSymbols> ElfSymbols::Load(const ElfFile& file) {
  Elf* elf = file.get();
  GElf_Ehdr ehdr;
  if (gelf_getehdr(elf, &ehdr) == nullptr) {
    return Error{"cannot read ELF header of " + file.path() + ": " + elf_errmsg(-1)};
  }
  ElfSymbols out;
  out.type_ = ehdr.e_type;

  size_t phnum = 0;
  if (elf_getphdrnum(elf, &phnum) != 0) {
    return Error{"cannot read program headers of " + file.path() + ": " + elf_errmsg(-1)};
  }
  for (size_t i = 0; i < phnum; ++i) {
    GElf_Phdr phdr;
    if (gelf_getphdr(elf, static_cast<int>(i), &phdr) == nullptr || phdr.p_type != PT_LOAD) {
      continue;
    }
    out.segments_.push_back(LoadSegment{phdr.p_offset, phdr.p_vaddr, phdr.p_filesz, phdr.p_memsz,
                                        (phdr.p_flags & PF_X) != 0});
  }

  size_t shstrndx = 0;
  if (elf_getshdrstrndx(elf, &shstrndx) != 0) shstrndx = 0;
  for (Elf_Scn* scn = elf_nextscn(elf, nullptr); scn != nullptr; scn = elf_nextscn(elf, scn)) {
    GElf_Shdr shdr;
    if (gelf_getshdr(scn, &shdr) == nullptr) continue;
    if (shdr.sh_type == SHT_NOTE && out.build_id_.empty()) {
      if (Elf_Data* data = elf_getdata(scn, nullptr)) out.build_id_ = ReadBuildId(data);
      continue;
    }
    if (shdr.sh_type != SHT_SYMTAB && shdr.sh_type != SHT_DYNSYM) continue;
    Elf_Data* data = elf_getdata(scn, nullptr);
    if (data == nullptr || shdr.sh_entsize == 0) continue;
    size_t count = shdr.sh_size / shdr.sh_entsize;
    for (size_t i = 0; i < count; ++i) {
      GElf_Sym sym;
      if (gelf_getsym(data, static_cast<int>(i), &sym) == nullptr) continue;
      int type = GELF_ST_TYPE(sym.st_info);
      if ((type != STT_FUNC && type != STT_GNU_IFUNC) || sym.st_shndx == SHN_UNDEF ||
          sym.st_value == 0) {
        continue;
      }
      const char* name = elf_strptr(elf, shdr.sh_link, sym.st_name);
      if (name == nullptr || *name == '\0') continue;
      out.AddSymbol(sym.st_value, sym.st_size, name);
    }
  }
  out.FinishSymbols();
  return out;
}

void ElfSymbols::AddSymbol(uint64_t addr, uint64_t size, const char* name) {
  symbols_.push_back(Symbol{addr, size, static_cast<uint32_t>(names_.size())});
  names_.append(name);
  names_.push_back('\0');
}

void ElfSymbols::FinishSymbols() {
  // .symtab and .dynsym repeat each other, and aliases share an address: keep
  // one symbol per address, preferring one with a size.
  std::stable_sort(symbols_.begin(), symbols_.end(), [](const Symbol& a, const Symbol& b) {
    if (a.addr != b.addr) return a.addr < b.addr;
    return a.size > b.size;
  });
  symbols_.erase(std::unique(symbols_.begin(), symbols_.end(),
                             [](const Symbol& a, const Symbol& b) { return a.addr == b.addr; }),
                 symbols_.end());
  for (size_t i = 0; i < symbols_.size(); ++i) {
    if (symbols_[i].size != 0) continue;
    uint64_t end = i + 1 < symbols_.size() ? symbols_[i + 1].addr : SegmentEnd(symbols_[i].addr);
    symbols_[i].size = end > symbols_[i].addr ? end - symbols_[i].addr : 1;
  }
  names_.shrink_to_fit();
  symbols_.shrink_to_fit();
}

uint64_t ElfSymbols::SegmentEnd(uint64_t vaddr) const {
  for (const LoadSegment& s : segments_) {
    if (vaddr >= s.vaddr && vaddr < s.vaddr + s.mem_size) return s.vaddr + s.mem_size;
  }
  return vaddr + 1;
}

std::optional<uint64_t> ElfSymbols::FileOffsetToVaddr(uint64_t file_offset) const {
  for (bool want_exec : {true, false}) {
    for (const LoadSegment& s : segments_) {
      if (s.executable == want_exec && file_offset >= s.file_offset &&
          file_offset < s.file_offset + s.file_size) {
        return file_offset - s.file_offset + s.vaddr;
      }
    }
  }
  return std::nullopt;
}

std::optional<std::string> ElfSymbols::Lookup(uint64_t elf_vaddr) const {
  auto it = std::upper_bound(symbols_.begin(), symbols_.end(), elf_vaddr,
                             [](uint64_t a, const Symbol& s) { return a < s.addr; });
  if (it == symbols_.begin()) return std::nullopt;
  --it;
  if (elf_vaddr - it->addr >= it->size) return std::nullopt;
  return Demangle(names_.c_str() + it->name_offset);
}

}  // namespace waitscope
