#include "symbols/elf_file.h"

#include <fcntl.h>

#include <cerrno>
#include <cstring>

namespace waitscope {

namespace {

bool InitLibelf() {
  // elf_version() must be called once before any other libelf function.
  static const bool ok = elf_version(EV_CURRENT) != EV_NONE;
  return ok;
}

}  // namespace

Result<ElfFile> ElfFile::Open(const std::string& path) {
  if (!InitLibelf()) return Error{std::string("libelf init failed: ") + elf_errmsg(-1)};
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return Error{"cannot open " + path + ": " + std::strerror(errno)};
  Elf* elf = elf_begin(fd.get(), ELF_C_READ_MMAP, nullptr);
  if (elf == nullptr) return Error{"cannot read ELF " + path + ": " + elf_errmsg(-1)};
  ElfFile file(path, std::move(fd), elf);
  if (elf_kind(elf) != ELF_K_ELF) return Error{path + " is not an ELF object"};
  return file;
}

}  // namespace waitscope
