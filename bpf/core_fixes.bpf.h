/* Kernel-version differences, in one place (CO-RE field checks). */
#ifndef WAITSCOPE_CORE_FIXES_BPF_H
#define WAITSCOPE_CORE_FIXES_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>

/* struct unix_address: `name` became a flexible array of struct sockaddr_un
 * in 5.x; older kernels have `struct sockaddr_un name[0]` which reads the
 * same. Kept as a flavor so a rename only touches this file. */

/* task_struct::state was renamed to __state in 5.14 (commit 2f064a59a11f). */
struct task_struct___pre514 {
  long state;
} __attribute__((preserve_access_index));

static __always_inline unsigned int ws_task_state(struct task_struct *t)
{
  if (bpf_core_field_exists(t->__state))
    return BPF_CORE_READ(t, __state);
  return (unsigned int)BPF_CORE_READ((struct task_struct___pre514 *)t, state);
}

#endif
