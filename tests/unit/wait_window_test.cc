#include "aggregate/wait_window.h"

#include <gtest/gtest.h>

namespace waitscope {
namespace {

ws_wait_key Key(std::uint32_t tgid) {
  ws_wait_key key{};
  key.tgid = tgid;
  key.syscall_nr = 74;  // fsync
  return key;
}

std::pair<__u64, __u64> Pair(__u64 count, __u64 total_ns) {
  return {count, total_ns};
}

// Advances `window` for `key` with the kernel's cumulative (count, total_ns).
std::pair<__u64, __u64> Window(WaitWindow& window, const ws_wait_key& key, __u64 count,
                               __u64 total_ns, bool* any = nullptr) {
  ws_wait_val val{count, total_ns, 999};
  const bool added = window.Advance(key, val);
  if (any) *any = added;
  EXPECT_EQ(val.max_ns, 999ull) << "max_ns is the all-time maximum";
  return {val.count, val.total_ns};
}

TEST(WaitWindowTest, ReportsWhatEachWindowAdded) {
  WaitWindow w;
  const ws_wait_key k = Key(1);
  EXPECT_EQ(Window(w, k, 3, 300), Pair(3, 300));
  EXPECT_EQ(Window(w, k, 5, 450), Pair(2, 150));
  bool any = true;
  EXPECT_EQ(Window(w, k, 5, 450, &any), Pair(0, 0));
  EXPECT_FALSE(any) << "a row that did not move is left out";
}

TEST(WaitWindowTest, KeysAreApart) {
  WaitWindow w;
  EXPECT_EQ(Window(w, Key(1), 3, 300), Pair(3, 300));
  EXPECT_EQ(Window(w, Key(2), 1, 10), Pair(1, 10));
  EXPECT_EQ(Window(w, Key(1), 4, 310), Pair(1, 10));
}

TEST(WaitWindowTest, TimeWithoutACountIsKept) {
  // A block whose switch-in was found late joins a wait already counted.
  WaitWindow w;
  const ws_wait_key k = Key(1);
  Window(w, k, 2, 200);
  bool any = false;
  EXPECT_EQ(Window(w, k, 2, 260, &any), Pair(0, 60));
  EXPECT_TRUE(any) << "the 60 ns would be lost";
}

TEST(WaitWindowTest, WhatARowGivesBackIsNotCountedAgain) {
  // A syscall's early blocks (1 count, 40 ns) leave the row of short waits
  // when it crosses the stack threshold: the row goes down. Before, a drop
  // was taken for a re-created row and its whole value reported again.
  WaitWindow w;
  const ws_wait_key k = Key(1);
  EXPECT_EQ(Window(w, k, 5, 500), Pair(5, 500));
  bool any = true;
  EXPECT_EQ(Window(w, k, 4, 460, &any), Pair(0, 0));
  EXPECT_FALSE(any);
  // Growth first pays back what was given back: 4 -> 7 is 2 past the 5 reported.
  EXPECT_EQ(Window(w, k, 7, 700), Pair(2, 200));
  EXPECT_EQ(Window(w, k, 8, 800), Pair(1, 100));
}

TEST(WaitWindowTest, ClearStartsFromZero) {
  WaitWindow w;
  const ws_wait_key k = Key(1);
  Window(w, k, 5, 500);
  w.Clear();  // the kernel's rows were deleted
  EXPECT_EQ(Window(w, k, 2, 20), Pair(2, 20));
}

}  // namespace
}  // namespace waitscope
