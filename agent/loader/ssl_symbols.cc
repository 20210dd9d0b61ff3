#include "loader/ssl_symbols.h"

#include <gelf.h>

#include <optional>
#include <string_view>
#include <utility>

#include "symbols/elf_file.h"

namespace waitscope {
namespace {

constexpr std::pair<std::string_view, SslFunction> kFunctions[] = {
    {"SSL_read", SslFunction::kRead},
    {"SSL_read_ex", SslFunction::kReadEx},
    {"SSL_write", SslFunction::kWrite},
    {"SSL_write_ex", SslFunction::kWriteEx},
    {"SSL_do_handshake", SslFunction::kDoHandshake},
    {"SSL_connect", SslFunction::kConnect},
    {"SSL_accept", SslFunction::kAccept},
    {"SSL_free", SslFunction::kFree},
};
constexpr std::size_t kCount = std::size(kFunctions);

std::optional<std::size_t> IndexOf(std::string_view name) {
  // Some toolchains keep the version in .symtab names ("SSL_read@@OPENSSL_3.0.0").
  if (std::size_t at = name.find('@'); at != std::string_view::npos) name = name.substr(0, at);
  for (std::size_t i = 0; i < kCount; ++i) {
    if (kFunctions[i].first == name) return i;
  }
  return std::nullopt;
}

// File offset of a virtual address: through the PT_LOAD segment holding it.
std::optional<std::uint64_t> VaddrToOffset(Elf* elf, std::uint64_t vaddr) {
  std::size_t phnum = 0;
  if (elf_getphdrnum(elf, &phnum) != 0) return std::nullopt;
  for (std::size_t i = 0; i < phnum; ++i) {
    GElf_Phdr ph;
    if (gelf_getphdr(elf, static_cast<int>(i), &ph) == nullptr || ph.p_type != PT_LOAD) continue;
    if (vaddr >= ph.p_vaddr && vaddr < ph.p_vaddr + ph.p_filesz) {
      return vaddr - ph.p_vaddr + ph.p_offset;
    }
  }
  return std::nullopt;
}

}  // namespace

Result<std::vector<SslFunctionOffset>> FindSslFunctions(const std::string& path) {
  Result<ElfFile> file = ElfFile::Open(path);
  if (!file.ok()) return file.error();
  Elf* elf = file->get();

  std::optional<std::uint64_t> vaddr[kCount];
  Elf_Scn* scn = nullptr;
  while ((scn = elf_nextscn(elf, scn)) != nullptr) {
    GElf_Shdr sh;
    if (gelf_getshdr(scn, &sh) == nullptr) continue;
    if (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM) continue;
    Elf_Data* data = elf_getdata(scn, nullptr);
    if (data == nullptr || sh.sh_entsize == 0) continue;
    const std::size_t n = sh.sh_size / sh.sh_entsize;
    for (std::size_t i = 0; i < n; ++i) {
      GElf_Sym sym;
      if (gelf_getsym(data, static_cast<int>(i), &sym) == nullptr) continue;
      if (GELF_ST_TYPE(sym.st_info) != STT_FUNC || sym.st_shndx == SHN_UNDEF || sym.st_value == 0) {
        continue;
      }
      const char* name = elf_strptr(elf, sh.sh_link, sym.st_name);
      if (name == nullptr || name[0] != 'S') continue;  // cheap filter: all start with "SSL_"
      if (std::optional<std::size_t> idx = IndexOf(name); idx && !vaddr[*idx]) {
        vaddr[*idx] = sym.st_value;
      }
    }
  }

  std::vector<SslFunctionOffset> out;
  auto has = [&](SslFunction f) {
    for (std::size_t i = 0; i < kCount; ++i) {
      if (kFunctions[i].second == f) return vaddr[i].has_value();
    }
    return false;
  };
  if (!has(SslFunction::kWrite) || !has(SslFunction::kRead)) return out;
  for (std::size_t i = 0; i < kCount; ++i) {
    if (!vaddr[i]) continue;
    std::optional<std::uint64_t> offset = VaddrToOffset(elf, *vaddr[i]);
    if (!offset) {
      return Error{path + ": " + std::string(kFunctions[i].first) +
                   " is outside every loadable segment"};
    }
    out.push_back({kFunctions[i].second, *offset});
  }
  return out;
}

}  // namespace waitscope
