#include "symbols/elf_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

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
  // O_NONBLOCK: a FIFO put where a mapped file was opens at once, and fails
  // the check below, instead of blocking the symbolizer.
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  if (!fd.valid()) return Error{"cannot open " + path + ": " + std::strerror(errno)};
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return Error{path + " is not a regular file"};
  }
  // Read, not mapped: the traced process's user may truncate the file while
  // we read it, and a mapping would turn that into SIGBUS in the agent.
  // ELF_C_READ reads headers and sections with pread as they are asked for.
  Elf* elf = elf_begin(fd.get(), ELF_C_READ, nullptr);
  if (elf == nullptr) return Error{"cannot read ELF " + path + ": " + elf_errmsg(-1)};
  ElfFile file(path, std::move(fd), elf);
  if (elf_kind(elf) != ELF_K_ELF) return Error{path + " is not an ELF object"};
  return file;
}

std::vector<std::uint8_t> ElfFile::ReadBytes(std::uint64_t offset, std::size_t max) const {
  std::vector<std::uint8_t> out(max);
  std::size_t got = 0;
  while (got < max) {
    const ssize_t n =
        ::pread(fd_.get(), out.data() + got, max - got, static_cast<off_t>(offset + got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  out.resize(got);
  return out;
}

}  // namespace waitscope
