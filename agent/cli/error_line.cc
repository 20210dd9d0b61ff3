#include "cli/error_line.h"

#include <cstdio>

#include "report/display_text.h"

namespace waitscope::cli {

void PrintError(std::string_view message) {
  const std::string line = TruncateMiddle(SanitizeForTerminal(message), kMaxErrorColumns);
  std::fprintf(stderr, "waitscope: error: %s\n", line.c_str());
}

int Fail(std::string_view message) {
  PrintError(message);
  return 1;
}

}  // namespace waitscope::cli
