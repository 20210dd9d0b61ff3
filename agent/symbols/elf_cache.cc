#include "symbols/elf_cache.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

namespace waitscope {

Result<std::shared_ptr<const ElfSymbols>> ElfCache::Get(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    return Error{"cannot stat " + path + ": " + std::strerror(errno)};
  }
  FileKey key{st.st_dev, st.st_ino, st.st_mtim.tv_sec, st.st_mtim.tv_nsec, st.st_size};
  if (auto it = entries_.find(key); it != entries_.end()) return it->second;

  Result<ElfSymbols> symbols = ElfSymbols::Load(path);
  if (!symbols.ok()) return symbols.error();
  auto shared = std::make_shared<const ElfSymbols>(std::move(symbols).value());
  entries_.emplace(key, shared);
  return shared;
}

}  // namespace waitscope
