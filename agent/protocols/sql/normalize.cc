// Placeholder until the SQL normalizer lands: folds whitespace only.
#include "protocols/sql/normalize.h"

#include <cctype>

namespace waitscope::protocols {

std::string NormalizeSql(std::string_view sql, SqlDialect) {
  std::string out;
  bool space = false;
  for (char c : sql) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

}  // namespace waitscope::protocols
