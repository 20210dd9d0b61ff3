/* The set of traced processes, shared by every program family: one bit per
 * tgid in an mmapable array map. User space creates it with the first object
 * it loads and hands the same map to the others (bpf_map__reuse_fd), and sets
 * bits with atomic ops through its mmap; the kernel adds children at fork.
 * Every hook checks it first, so untraced processes pay one array read. */
#ifndef WAITSCOPE_TRACED_BPF_H
#define WAITSCOPE_TRACED_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "waitscope/bpf/traced.h"

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(map_flags, BPF_F_MMAPABLE);
  __uint(max_entries, WS_TGID_BITMAP_WORDS);
  __type(key, __u32);
  __type(value, __u64);
} traced_tgids SEC(".maps");

const volatile __u32 self_tgid = 0; /* never trace waitscope itself */
const volatile __u8 trace_all = 0;  /* ignore the set (agent mode) */

/* tgid's word in a bitmap of WS_TGID_BITMAP_WORDS words (an array map). */
static __always_inline __u64 *ws_tgid_word(void *bitmap, __u32 tgid)
{
  /* pid_max is at most 2^22 = 64 * WS_TGID_BITMAP_WORDS. */
  __u32 word = (tgid >> 6) & (WS_TGID_BITMAP_WORDS - 1);
  return bpf_map_lookup_elem(bitmap, &word);
}

static __always_inline __u64 *ws_traced_word(__u32 tgid)
{
  return ws_tgid_word(&traced_tgids, tgid);
}

static __always_inline bool is_traced(__u32 tgid)
{
  if (tgid == self_tgid)
    return false;
  if (trace_all)
    return true;
  __u64 *w = ws_traced_word(tgid);
  return w && ((*w >> (tgid & 63)) & 1);
}

/* Returns false if tgid does not fit the set. */
static __always_inline bool set_traced(__u32 tgid, bool on)
{
  if ((tgid >> 6) >= WS_TGID_BITMAP_WORDS)
    return false;
  __u64 *w = ws_traced_word(tgid);
  if (!w)
    return false;
  __u64 bit = 1ULL << (tgid & 63);
  if (on)
    __sync_fetch_and_or(w, bit);
  else
    __sync_fetch_and_and(w, ~bit);
  return true;
}

#endif
