#include "loader/ssl_places.h"

#include <algorithm>

namespace waitscope {

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
