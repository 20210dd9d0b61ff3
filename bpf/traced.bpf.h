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

/* Bitmaps of tgids: array maps of WS_TGID_BITMAP_WORDS u64 words, one bit
 * per tgid (traced_tgids here; ssl_tgids in sockets.bpf.h). */
static __always_inline __u64 *ws_tgid_word(void *bitmap, __u32 tgid)
{
  /* pid_max is at most 2^22 = 64 * WS_TGID_BITMAP_WORDS. */
  __u32 word = (tgid >> 6) & (WS_TGID_BITMAP_WORDS - 1);
  return bpf_map_lookup_elem(bitmap, &word);
}

static __always_inline bool ws_tgid_test(void *bitmap, __u32 tgid)
{
  __u64 *w = ws_tgid_word(bitmap, tgid);
  return w && ((*w >> (tgid & 63)) & 1);
}

/* Sets (on) or clears tgid's bit; an atomic op only when it changes, so a
 * hot caller setting an already set bit pays one load. Returns false if
 * tgid does not fit the bitmap. */
static __always_inline bool ws_tgid_set(void *bitmap, __u32 tgid, bool on)
{
  if ((tgid >> 6) >= WS_TGID_BITMAP_WORDS)
    return false;
  __u64 *w = ws_tgid_word(bitmap, tgid);
  if (!w)
    return false;
  __u64 bit = 1ULL << (tgid & 63);
  if (on && !(*w & bit))
    __sync_fetch_and_or(w, bit);
  else if (!on && (*w & bit))
    __sync_fetch_and_and(w, ~bit);
  return true;
}

static __always_inline bool is_traced(__u32 tgid)
{
  if (tgid == self_tgid)
    return false;
  if (trace_all)
    return true;
  return ws_tgid_test(&traced_tgids, tgid);
}

/* Returns false if tgid does not fit the set. */
static __always_inline bool set_traced(__u32 tgid, bool on)
{
  return ws_tgid_set(&traced_tgids, tgid, on);
}

#endif
