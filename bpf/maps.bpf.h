/* Small helpers over BPF maps shared by the program families. */
#ifndef WAITSCOPE_MAPS_BPF_H
#define WAITSCOPE_MAPS_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

/* Insert `init` under `key` unless present, then return the stored value.
 * Returns NULL when the map is full. */
static __always_inline void *ws_lookup_or_init(void *map, const void *key, const void *init)
{
  void *val = bpf_map_lookup_elem(map, key);
  if (val)
    return val;
  long err = bpf_map_update_elem(map, key, init, BPF_NOEXIST);
  if (err && err != -17 /* EEXIST: another CPU won the race */)
    return 0;
  return bpf_map_lookup_elem(map, key);
}

#endif
