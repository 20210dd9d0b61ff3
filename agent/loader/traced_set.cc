#include "loader/traced_set.h"

#include <sys/mman.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "waitscope/bpf/traced.h"

namespace waitscope {
namespace {
constexpr std::size_t kBytes = WS_TGID_BITMAP_WORDS * sizeof(std::uint64_t);
}

Result<TracedSet> TracedSet::Map(int map_fd) {
  void* p = mmap(nullptr, kBytes, PROT_READ | PROT_WRITE, MAP_SHARED, map_fd, 0);
  if (p == MAP_FAILED) {
    return Error{std::string("cannot map the traced-process set: ") + std::strerror(errno)};
  }
  return TracedSet(map_fd, static_cast<std::uint64_t*>(p));
}

TracedSet::TracedSet(TracedSet&& other) noexcept : map_fd_(other.map_fd_), words_(other.words_) {
  other.words_ = nullptr;
}

TracedSet::~TracedSet() {
  if (words_) munmap(words_, kBytes);
}

void TracedSet::Add(std::uint32_t tgid) {
  if ((tgid >> 6) >= WS_TGID_BITMAP_WORDS) return;
  __atomic_fetch_or(&words_[tgid >> 6], 1ULL << (tgid & 63), __ATOMIC_SEQ_CST);
}

bool TracedSet::Contains(std::uint32_t tgid) const {
  if ((tgid >> 6) >= WS_TGID_BITMAP_WORDS) return false;
  return (__atomic_load_n(&words_[tgid >> 6], __ATOMIC_SEQ_CST) >> (tgid & 63)) & 1;
}

}  // namespace waitscope
