// SQL normalization and redaction, shared by the PostgreSQL and MySQL
// parsers: the statement text that leaves the parser.
//   - string, numeric, hex/bit, dollar-quoted and E'' literals -> ?
//   - IN (?, ?, ?) and VALUES (?, ?), (?, ?) lists -> IN (...), VALUES (...)
//   - comments (-- ..., /* ... */, # ... for MySQL) removed
//   - whitespace folded to single spaces, trimmed
//   - keywords keep their case; identifiers ("quoted" or `quoted`) are kept;
//     $1 / ? placeholders are kept as they are.
// Never fails: garbage in, best-effort text out (unterminated literals are
// redacted to the end).
#pragma once

#include <string>
#include <string_view>

namespace waitscope::protocols {

enum class SqlDialect { kPostgres, kMysql };

std::string NormalizeSql(std::string_view sql, SqlDialect dialect);

}  // namespace waitscope::protocols
