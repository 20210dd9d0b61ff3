#include "symbols/process_file.h"

#include <sys/stat.h>

#include <cstdio>
#include <vector>

namespace waitscope {

std::optional<std::string> FindMappedFile(uint32_t pid, const Mapping& mapping) {
  if (mapping.path.empty() || mapping.path.front() != '/') return std::nullopt;

  std::string proc = "/proc/" + std::to_string(pid);
  char range[64];
  std::snprintf(range, sizeof(range), "/map_files/%llx-%llx",
                static_cast<unsigned long long>(mapping.start),
                static_cast<unsigned long long>(mapping.end));
  // Order matters only for the no-inode-match fallback: the process's own
  // root is the right namespace, the plain path is a guess.
  std::vector<std::string> candidates = {proc + "/root" + mapping.path, mapping.path, proc + range};

  std::optional<std::string> first_existing;
  for (const std::string& candidate : candidates) {
    struct stat st;
    if (::stat(candidate.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    if (mapping.inode == 0 || st.st_ino == mapping.inode) return candidate;
    if (!first_existing) first_existing = candidate;
  }
  if (mapping.deleted) return std::nullopt;
  return first_existing;
}

}  // namespace waitscope
