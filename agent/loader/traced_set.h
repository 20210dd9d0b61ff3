// TracedSet: user space's view of the traced-process bitmap shared by every
// BPF program family (bpf/traced.bpf.h). It mmaps the map, so adding a pid is
// one atomic OR that races safely with the kernel adding children at fork.
// Owns the mapping (RAII); the map itself belongs to the probe that created it.
#pragma once

#include <cstdint>

#include "core/result.h"

namespace waitscope {

class TracedSet {
 public:
  static Result<TracedSet> Map(int map_fd);
  TracedSet(TracedSet&& other) noexcept;
  TracedSet& operator=(TracedSet&&) = delete;
  TracedSet(const TracedSet&) = delete;
  ~TracedSet();

  void Add(std::uint32_t tgid);
  bool Contains(std::uint32_t tgid) const;
  int map_fd() const { return map_fd_; }

 private:
  TracedSet(int map_fd, std::uint64_t* words) : map_fd_(map_fd), words_(words) {}
  int map_fd_ = -1;
  std::uint64_t* words_ = nullptr;
};

}  // namespace waitscope
