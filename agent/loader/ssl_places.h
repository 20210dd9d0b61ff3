// Which OpenSSL program runs at which places of one library file. Several
// functions share a program (SSL_read_ex and its worker; every data
// function's return program; the three handshake calls), and aliases share
// an address: a program attached twice at one place would run twice per
// call and copy the bytes twice. So each program gets each place once, in
// the order first named. Programs are named by role here and mapped to the
// skeleton's handles by SslProgramHandle, so the tests check the real table
// against the real BPF object.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "loader/probe.h"

struct bpf_program;
struct waitscope_bpf;

namespace waitscope {

// The programs of bpf/openssl.bpf.h, by role.
enum class SslProgram {
  kNone,
  kReadEntry,
  kReadExEntry,  // SSL_read_ex and its worker: same arguments and result
  kWriteEntry,
  kWriteExEntry,
  kDataRet,  // the return of every data function
  kHandshakeEntry,
  kHandshakeRet,
  kFreeEntry,
};

// Every program but kNone, for whoever loads or lists them.
inline constexpr SslProgram kSslPrograms[] = {
    SslProgram::kReadEntry,    SslProgram::kReadExEntry, SslProgram::kWriteEntry,
    SslProgram::kWriteExEntry, SslProgram::kDataRet,     SslProgram::kHandshakeEntry,
    SslProgram::kHandshakeRet, SslProgram::kFreeEntry};

// The skeleton's handle of program `p`; nullptr for kNone.
bpf_program* SslProgramHandle(waitscope_bpf* skel, SslProgram p);

struct SslEntryAndReturn {
  SslProgram entry = SslProgram::kNone;
  SslProgram ret = SslProgram::kNone;  // kNone: no return probe
};

// The (entry, return) programs of one OpenSSL function.
SslEntryAndReturn SslProgramsOf(SslFunction f);

struct ProgramPlaces {
  SslProgram program = SslProgram::kNone;
  bool retprobe = false;
  std::vector<std::uint64_t> offsets;  // file offsets, each once
};

// Each program with every place of `functions` it runs at, once each.
std::vector<ProgramPlaces> GroupSslPlaces(std::span<const SslFunctionOffset> functions);

}  // namespace waitscope
