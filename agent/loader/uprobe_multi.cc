#include "loader/uprobe_multi.h"

#include <bpf/bpf.h>
#include <linux/bpf.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstddef>
#include <cstring>

namespace waitscope {
namespace {

// union bpf_attr's link_create, as Linux 6.6+ lays out its uprobe_multi
// member (the system's linux/bpf.h may be older than that). Fields the
// kernel does not get are zero; `size` tells it how much we pass.
struct LinkCreateUprobeMulti {
  std::uint32_t prog_fd = 0;
  std::uint32_t target_fd = 0;
  std::uint32_t attach_type = 0;
  std::uint32_t flags = 0;
  std::uint64_t path = 0;  // const char *
  std::uint64_t offsets = 0;
  std::uint64_t ref_ctr_offsets = 0;
  std::uint64_t cookies = 0;
  std::uint32_t cnt = 0;
  std::uint32_t multi_flags = 0;
  std::uint32_t pid = 0;  // 0: every process
  std::uint32_t padding = 0;
};
static_assert(offsetof(LinkCreateUprobeMulti, path) == 16);
static_assert(offsetof(LinkCreateUprobeMulti, cnt) == 48);
static_assert(offsetof(LinkCreateUprobeMulti, pid) == 56);

constexpr std::uint32_t kUprobeMultiReturn = 1;  // BPF_F_UPROBE_MULTI_RETURN

int LinkCreate(const LinkCreateUprobeMulti& attr) {
  const long fd = syscall(__NR_bpf, BPF_LINK_CREATE, &attr, sizeof(attr));
  return static_cast<int>(fd);
}

}  // namespace

bool KernelHasUprobeMulti() {
  // "r0 = 0; exit", a kprobe-type program for uprobe_multi links.
  const std::array<bpf_insn, 2> insns = {{
      {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .src_reg = 0, .off = 0, .imm = 0},
      {.code = BPF_JMP | BPF_EXIT, .dst_reg = 0, .src_reg = 0, .off = 0, .imm = 0},
  }};
  LIBBPF_OPTS(bpf_prog_load_opts, opts,
              .expected_attach_type = static_cast<bpf_attach_type>(kAttachUprobeMulti));
  const int prog =
      bpf_prog_load(BPF_PROG_TYPE_KPROBE, "ws_probe_um", "GPL", insns.data(), insns.size(), &opts);
  if (prog < 0) return false;
  // A kernel with uprobe_multi looks the path up (ENOENT); one without
  // refuses the attach type (EINVAL) before reading anything else.
  static constexpr char kNoSuchFile[] = "/nonexistent/waitscope-uprobe-multi-check";
  const std::uint64_t offset = 0;
  LinkCreateUprobeMulti attr;
  attr.prog_fd = static_cast<std::uint32_t>(prog);
  attr.attach_type = kAttachUprobeMulti;
  attr.path = reinterpret_cast<std::uintptr_t>(kNoSuchFile);
  attr.offsets = reinterpret_cast<std::uintptr_t>(&offset);
  attr.cnt = 1;
  const int link = LinkCreate(attr);
  const int err = errno;
  if (link >= 0) close(link);  // cannot happen: the file does not exist
  close(prog);
  return link >= 0 || err == ENOENT;
}

Result<int> AttachUprobeMulti(int prog_fd, const std::string& path,
                              std::span<const std::uint64_t> offsets, bool retprobe) {
  if (offsets.empty()) return Error{"no offsets to attach at"};
  LinkCreateUprobeMulti attr;
  attr.prog_fd = static_cast<std::uint32_t>(prog_fd);
  attr.attach_type = kAttachUprobeMulti;
  attr.path = reinterpret_cast<std::uintptr_t>(path.c_str());
  attr.offsets = reinterpret_cast<std::uintptr_t>(offsets.data());
  attr.cnt = static_cast<std::uint32_t>(offsets.size());
  attr.multi_flags = retprobe ? kUprobeMultiReturn : 0;
  const int fd = LinkCreate(attr);
  if (fd < 0) return Error{std::strerror(errno)};
  return fd;
}

}  // namespace waitscope
