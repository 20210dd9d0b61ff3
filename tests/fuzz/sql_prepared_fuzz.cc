// libFuzzer target for the PostgreSQL SQL-level PREPARE/EXECUTE reader
// (protocols/postgres/sql_prepared.h). Input: statements, one per line; a
// line starting with '?' is resolved (as an EXECUTE would be), any other is
// applied as a statement the server ran. Seeds: tests/fuzz/corpus/sql_prepared/.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "protocols/postgres/sql_prepared.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  waitscope::protocols::postgres::SqlPreparedStatements prepared;
  while (!in.empty()) {
    const std::size_t nl = in.find('\n');
    const std::string_view line = in.substr(0, nl);
    in.remove_prefix(nl == std::string_view::npos ? in.size() : nl + 1);
    if (!line.empty() && line[0] == '?') {
      if (const std::string* runs = prepared.Resolve(line.substr(1))) {
        // What Resolve returns is what a PREPARE stored: never empty.
        if (runs->empty()) __builtin_trap();
      }
    } else {
      prepared.Ran(line);
    }
  }
  return 0;
}
