/* Size of the traced-process set shared by all program families
 * (bpf/traced.bpf.h); user space maps it as WS_TGID_BITMAP_WORDS u64 words. */
#ifndef WAITSCOPE_BPF_TRACED_H
#define WAITSCOPE_BPF_TRACED_H

#define WS_TGID_BITMAP_WORDS 65536 /* 64 * 65536 = 4194304 = PID_MAX_LIMIT on 64-bit */

#endif
