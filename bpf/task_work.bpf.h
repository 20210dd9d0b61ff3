/* bpf_task_work: a BPF callback that runs in a task on its way back to user
 * space (kernel 6.18+). The "sched" flavour's only way to act at the end of
 * a syscall without a sys_exit program: waits.bpf.h takes a long wait's user
 * stack there, sockets.bpf.h ends a sendmmsg/recvmmsg's message count. */
#ifndef WAITSCOPE_TASK_WORK_BPF_H
#define WAITSCOPE_TASK_WORK_BPF_H

#include "vmlinux.h"

#include <bpf/bpf_helpers.h>

#include "vmlinux_features.h"

#ifndef WS_HAVE_BPF_TASK_WORK
/* Kernels before 6.18: declared only so that the object compiles; the
 * "sched" flavour, the only user, does not load there. */
struct bpf_task_work {
  __u64 __opaque;
};
typedef int (*bpf_task_work_callback_t)(struct bpf_map *, void *, void *);
#endif
extern int bpf_task_work_schedule_resume_impl(struct task_struct *task, struct bpf_task_work *tw,
                                              void *map__map, bpf_task_work_callback_t callback,
                                              void *aux__prog) __ksym __weak;

#endif /* WAITSCOPE_TASK_WORK_BPF_H */
