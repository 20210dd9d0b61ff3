// ElfFile: an open ELF object, owning both the file descriptor and the libelf
// handle (Elf*) so neither leaks on an early error return.
// Contract: Open() fails with a message naming the path when the file cannot
// be opened, is not a regular file, or is not ELF. libelf reads headers and
// sections with pread as they are asked for (never through a mapping: the
// file's owner may truncate it meanwhile) and owns what it returns, so the
// object must outlive any data pointer obtained from libelf.
#pragma once

#include <libelf.h>
#include <sys/stat.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/result.h"
#include "symbols/unique_fd.h"

namespace waitscope {

class ElfFile {
 public:
  static Result<ElfFile> Open(const std::string& path);

  Elf* get() const { return elf_.get(); }
  const std::string& path() const { return path_; }

  // Up to `max` bytes at `offset` as read(2) returns them (fewer at the end
  // of the file or on an error). libelf's view is a private mapping of the
  // file, and the kernel installs every registered uprobe's breakpoint in
  // such a mapping: code read through it shows another tracer's int3s.
  std::vector<std::uint8_t> ReadBytes(std::uint64_t offset, std::size_t max) const;

 private:
  struct ElfEnd {
    void operator()(Elf* e) const { elf_end(e); }
  };
  ElfFile(std::string path, UniqueFd fd, Elf* elf)
      : path_(std::move(path)), fd_(std::move(fd)), elf_(elf) {}

  std::string path_;
  UniqueFd fd_;  // declared before elf_ so the Elf* is released first
  std::unique_ptr<Elf, ElfEnd> elf_;
};

}  // namespace waitscope
