// FindSslWorker: the internal function OpenSSL's SSL_read/SSL_read_ex (or
// SSL_write/SSL_write_ex) both call, so a uprobe there sees every data call
// of that direction once, far more cheaply than probes on the wrappers.
//
// Why: on x86-64 the kernel emulates a few instructions at a uprobe (push,
// call, jmp, nop); any other is single-stepped out of line, an int3 trap plus
// a debug trap. In our VMs the debug trap alone costs ~10 µs, against
// ~0.55 µs for a probe on an emulated instruction (BENCHMARKS.md, "uprobe cost
// by probe site"). libssl's four data functions start with `sub $N,%rsp`
// (single-stepped), and each is a thin wrapper over one worker per direction
// (ssl_read_internal / ssl_write_internal: (SSL *, void *buf, size_t num,
// size_t *processed) returning > 0 on success, the _ex calling convention)
// that starts with pushes. The worker has no exported symbol, so it is found
// from the code: the _ex wrapper's first instruction after its prologue is a
// direct call to it.
//
// Contract: FindSslWorker returns the worker's virtual address only when
// (1) the _ex wrapper is `[endbr64] [sub $imm8,%rsp] call rel32` and (2) the
// plain wrapper makes a direct call to the same address within its first
// kSslWrapperScanBytes. The caller must then check (3) with
// StartsWithEmulatedPush on the worker's first bytes: probing a worker that
// is single-stepped too would gain nothing. Anything else (another OpenSSL
// build, LTO, CET `endbr64` in the worker, another architecture) gives
// nullopt / false, and the caller probes the wrappers as before. Pure
// functions of the bytes: the caller reads them from the ELF file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace waitscope {

// How many bytes of each wrapper the finder looks at.
inline constexpr std::size_t kSslWrapperScanBytes = 64;

struct CodeAt {
  std::uint64_t vaddr = 0;              // virtual address of bytes[0]
  std::span<const std::uint8_t> bytes;  // the function's first bytes (may be short)
};

std::optional<std::uint64_t> FindSslWorker(CodeAt plain_wrapper, CodeAt ex_wrapper);

// True if `code` starts with `push %reg` (50+r, or 41 50+r for r8-r15),
// which x86 uprobes emulate instead of single-stepping.
bool StartsWithEmulatedPush(std::span<const std::uint8_t> code);

// Where an entry-only probe (no uretprobe: those must sit on the entry) on
// the function whose first bytes are `code` avoids the single-step: 0 if
// the first instruction is an emulated push; past a leading null check of
// the first argument (`test %rdi,%rdi; je rel8|rel32`, as SSL_free starts)
// if a push follows it, which every call with a non-null argument reaches
// with %rdi unchanged; nullopt otherwise (probe the entry, single-stepped).
std::optional<std::size_t> EmulatedEntryProbeOffset(std::span<const std::uint8_t> code);

}  // namespace waitscope
