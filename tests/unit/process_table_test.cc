#include "procs/process_table.h"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <vector>

namespace waitscope {
namespace {

std::uint64_t Address(const void* p) {
  return reinterpret_cast<std::uint64_t>(p);
}

// A stack whose leaf the snapshot covers but whose caller it does not: right
// after exec, the executable is mapped and the libraries are not yet. The
// maps must be read again, or the caller shows as "[unknown]".
TEST(ProcessTable, ReadsTheMapsAgainWhenAnyFrameIsMissing) {
  ProcessTable table;
  const auto pid = static_cast<std::uint32_t>(getpid());
  table.Observe(pid);  // snapshot before the mapping below exists

  const long page = sysconf(_SC_PAGESIZE);
  void* region =
      mmap(nullptr, static_cast<size_t>(page), PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(region, MAP_FAILED);
  const std::uint64_t leaf = Address(reinterpret_cast<const void*>(&Address));
  const std::uint64_t caller = Address(region);
  ASSERT_EQ(table.Find(pid)->maps.Find(caller), nullptr);

  const std::vector<std::uint64_t> stack = {leaf, caller};
  const ProcessMaps* maps = table.MapsFor(pid, stack);
  ASSERT_NE(maps, nullptr);
  EXPECT_NE(maps->Find(leaf), nullptr);
  EXPECT_NE(maps->Find(caller), nullptr);
  munmap(region, static_cast<size_t>(page));
}

// An exited process's stacks are symbolized with the maps it had: the
// snapshot is not replaced (here the pid is still alive, so a re-read would
// see the new mapping).
TEST(ProcessTable, KeepsTheSnapshotOfAProcessThatExited) {
  ProcessTable table;
  const auto pid = static_cast<std::uint32_t>(getpid());
  table.Observe(pid);
  table.OnExit(pid);

  const long page = sysconf(_SC_PAGESIZE);
  void* region =
      mmap(nullptr, static_cast<size_t>(page), PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(region, MAP_FAILED);
  const std::vector<std::uint64_t> stack = {Address(region)};
  const ProcessMaps* maps = table.MapsFor(pid, stack);
  ASSERT_NE(maps, nullptr);
  EXPECT_FALSE(maps->mappings().empty());
  EXPECT_EQ(maps->Find(Address(region)), nullptr);
  munmap(region, static_cast<size_t>(page));
}

}  // namespace
}  // namespace waitscope
