#include "symbols/process_file.h"

#include <sys/stat.h>

#include <cstdio>

namespace waitscope {

std::optional<std::string> FindMappedFile(uint32_t pid, const Mapping& mapping) {
  if (mapping.path.empty() || mapping.path.front() != '/') return std::nullopt;

  std::string proc = "/proc/" + std::to_string(pid);
  char range[64];
  std::snprintf(range, sizeof(range), "/map_files/%llx-%llx",
                static_cast<unsigned long long>(mapping.start),
                static_cast<unsigned long long>(mapping.end));
  // The first candidate is the only one taken without an inode match.
  const std::string candidates[] = {proc + "/root" + mapping.path, mapping.path, proc + range};
  bool root_fallback = false;
  for (const std::string& candidate : candidates) {
    struct stat st;
    if (::stat(candidate.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    if (mapping.inode == 0 || st.st_ino == mapping.inode) return candidate;
    if (&candidate == &candidates[0]) root_fallback = true;
  }
  if (mapping.deleted || !root_fallback) return std::nullopt;
  return candidates[0];
}

}  // namespace waitscope
