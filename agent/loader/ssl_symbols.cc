#include "loader/ssl_symbols.h"

#include <gelf.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <optional>
#include <span>
#include <string_view>
#include <utility>

#include "loader/ssl_workers.h"
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

// The data wrappers each worker serves (loader/ssl_workers.h).
struct WrapperPair {
  SslFunction plain;
  SslFunction ex;
  SslFunction worker;
  const char* name;  // for the log
};
constexpr WrapperPair kWrapperPairs[] = {
    {SslFunction::kRead, SslFunction::kReadEx, SslFunction::kReadWorker, "SSL_read/SSL_read_ex"},
    {SslFunction::kWrite, SslFunction::kWriteEx, SslFunction::kWriteWorker,
     "SSL_write/SSL_write_ex"},
};

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

// Code is read from the file, never through libelf's mapping: that shows
// the breakpoints of uprobes already on the library (another waitscope, or
// any tracer), and an int3 where the worker's push should be made this one
// fall back to the costly wrappers (see ElfFile::ReadBytes).

// The first bytes of the function at vaddr, for the worker finder; `bytes`
// keeps them.
CodeAt CodeOf(const ElfFile& file, std::uint64_t vaddr, std::vector<std::uint8_t>& bytes) {
  std::optional<std::uint64_t> offset = VaddrToOffset(file.get(), vaddr);
  bytes = offset ? file.ReadBytes(*offset, kSslWrapperScanBytes) : std::vector<std::uint8_t>{};
  return {vaddr, bytes};
}

// The file offset of the worker behind one wrapper pair (see
// loader/ssl_workers.h), if it can be probed cheaply.
std::optional<std::uint64_t> WorkerOffset(const ElfFile& file, const char* pair,
                                          std::uint64_t plain, std::uint64_t ex) {
  std::vector<std::uint8_t> plain_code, ex_code;
  std::optional<std::uint64_t> worker =
      FindSslWorker(CodeOf(file, plain, plain_code), CodeOf(file, ex, ex_code));
  std::optional<std::uint64_t> offset = worker ? VaddrToOffset(file.get(), *worker) : std::nullopt;
  if (!offset || !StartsWithEmulatedPush(file.ReadBytes(*offset, 2))) {
    spdlog::debug("{}: probing {} themselves (no worker with an emulated first instruction)",
                  file.path(), pair);
    return std::nullopt;
  }
  spdlog::debug("{}: probing {} through their worker at {:#x}", file.path(), pair, *worker);
  return offset;
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
  auto vaddr_of = [&](SslFunction f) {
    for (std::size_t i = 0; i < kCount; ++i) {
      if (kFunctions[i].second == f) return vaddr[i];
    }
    return std::optional<std::uint64_t>{};
  };
  if (!vaddr_of(SslFunction::kWrite) || !vaddr_of(SslFunction::kRead)) return out;

  // Where both wrappers of a direction lead to one worker, probe it instead
  // of them (x86-64 only: the finder reads x86 code).
  GElf_Ehdr ehdr;
  const bool x86_64 = gelf_getehdr(elf, &ehdr) != nullptr && ehdr.e_machine == EM_X86_64;
  std::vector<SslFunction> replaced;  // wrappers whose worker is probed instead
  for (const WrapperPair& pair : kWrapperPairs) {
    if (!x86_64 || !vaddr_of(pair.ex)) continue;
    if (std::optional<std::uint64_t> w =
            WorkerOffset(*file, pair.name, *vaddr_of(pair.plain), *vaddr_of(pair.ex))) {
      out.push_back({pair.worker, *w});
      replaced.insert(replaced.end(), {pair.plain, pair.ex});
    }
  }

  for (std::size_t i = 0; i < kCount; ++i) {
    if (!vaddr[i]) continue;
    const SslFunction f = kFunctions[i].second;
    if (std::find(replaced.begin(), replaced.end(), f) != replaced.end()) continue;
    std::optional<std::uint64_t> offset = VaddrToOffset(elf, *vaddr[i]);
    if (!offset) {
      return Error{path + ": " + std::string(kFunctions[i].first) +
                   " is outside every loadable segment"};
    }
    if (f == SslFunction::kFree && x86_64) {
      // Entry-only: may sit past SSL_free's null check, on an emulated push.
      if (std::optional<std::size_t> shift =
              EmulatedEntryProbeOffset(file->ReadBytes(*offset, kSslWrapperScanBytes))) {
        if (*shift != 0) {
          spdlog::debug("{}: probing SSL_free at +{} (past its null check, not single-stepped)",
                        path, *shift);
        }
        *offset += *shift;
      }
    }
    out.push_back({f, *offset});
  }
  return out;
}

}  // namespace waitscope
