// ProcessMaps: the memory mappings of one process, parsed from the text of
// /proc/PID/maps, with address lookup. The symbolizer uses it to turn a
// runtime address into (mapped file, offset within that file).
// Contract: Parse() never fails; malformed lines are skipped, because a maps
// snapshot is still useful when one line is odd. Mappings are kept sorted by
// start address so Find() is a binary search. Pseudo paths ("[vdso]",
// "[heap]", ...) are kept verbatim; anonymous mappings have an empty path; a
// " (deleted)" suffix is removed from the path and recorded in `deleted`.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace waitscope {

struct Mapping {
  uint64_t start = 0;  // first address of the mapping
  uint64_t end = 0;    // one past the last address
  uint64_t file_offset = 0;
  uint64_t inode = 0;  // 0 for anonymous and pseudo mappings
  std::string path;    // "" when anonymous; "[vdso]", "[heap]", ... kept verbatim
  bool executable = false;
  bool deleted = false;  // the file was unlinked after being mapped

  bool contains(uint64_t addr) const { return addr >= start && addr < end; }
  // True for "[vdso]", "[heap]", "[anon:name]", ...: not backed by a file.
  bool is_pseudo() const { return !path.empty() && path.front() == '['; }
  // Memory without a file behind it; JIT code lives here (see perf_map.h).
  bool is_anonymous() const { return path.empty() || path.starts_with("[anon:"); }
};

class ProcessMaps {
 public:
  ProcessMaps() = default;
  explicit ProcessMaps(std::vector<Mapping> mappings);  // sorts; for tests and synthetic input

  // Reads /proc/PID/maps. Fails with a "process PID is gone" message when the
  // process has exited, so callers can drop it quietly.
  static Result<ProcessMaps> Read(uint32_t pid);
  static ProcessMaps Parse(std::string_view text);

  // The mapping containing addr, or nullptr. The pointer is valid as long as
  // this object is alive and unmodified.
  const Mapping* Find(uint64_t addr) const;
  const std::vector<Mapping>& mappings() const { return mappings_; }

 private:
  std::vector<Mapping> mappings_;  // sorted by start, non-overlapping
};

}  // namespace waitscope
