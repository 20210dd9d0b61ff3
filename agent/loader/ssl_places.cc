#include "loader/ssl_places.h"

#include <algorithm>

#include "waitscope.skel.h"

namespace waitscope {

bpf_program* SslProgramHandle(waitscope_bpf* skel, SslProgram p) {
  switch (p) {
    case SslProgram::kNone:
      return nullptr;
    case SslProgram::kReadEntry:
      return skel->progs.ssl_read_entry;
    case SslProgram::kReadExEntry:
      return skel->progs.ssl_read_ex_entry;
    case SslProgram::kWriteEntry:
      return skel->progs.ssl_write_entry;
    case SslProgram::kWriteExEntry:
      return skel->progs.ssl_write_ex_entry;
    case SslProgram::kDataRet:
      return skel->progs.ssl_data_ret;
    case SslProgram::kHandshakeEntry:
      return skel->progs.ssl_handshake_entry;
    case SslProgram::kHandshakeRet:
      return skel->progs.ssl_handshake_ret;
    case SslProgram::kFreeEntry:
      return skel->progs.ssl_free_entry;
  }
  return nullptr;
}

SslEntryAndReturn SslProgramsOf(SslFunction f) {
  switch (f) {
    case SslFunction::kRead:
      return {SslProgram::kReadEntry, SslProgram::kDataRet};
    case SslFunction::kReadEx:
    case SslFunction::kReadWorker:
      return {SslProgram::kReadExEntry, SslProgram::kDataRet};
    case SslFunction::kWrite:
      return {SslProgram::kWriteEntry, SslProgram::kDataRet};
    case SslFunction::kWriteEx:
    case SslFunction::kWriteWorker:
      return {SslProgram::kWriteExEntry, SslProgram::kDataRet};
    case SslFunction::kDoHandshake:
    case SslFunction::kConnect:
    case SslFunction::kAccept:
      return {SslProgram::kHandshakeEntry, SslProgram::kHandshakeRet};
    case SslFunction::kFree:
      return {SslProgram::kFreeEntry, SslProgram::kNone};
  }
  return {};
}

std::vector<ProgramPlaces> GroupSslPlaces(std::span<const SslFunctionOffset> functions) {
  std::vector<ProgramPlaces> groups;
  for (const SslFunctionOffset& f : functions) {
    const SslEntryAndReturn programs = SslProgramsOf(f.function);
    for (SslProgram program : {programs.entry, programs.ret}) {
      if (program == SslProgram::kNone) continue;
      auto it = std::find_if(groups.begin(), groups.end(),
                             [&](const ProgramPlaces& g) { return g.program == program; });
      if (it == groups.end()) {
        it = groups.insert(groups.end(), ProgramPlaces{program, program == programs.ret, {}});
      }
      if (std::find(it->offsets.begin(), it->offsets.end(), f.offset) == it->offsets.end()) {
        it->offsets.push_back(f.offset);
      }
    }
  }
  return groups;
}

}  // namespace waitscope
