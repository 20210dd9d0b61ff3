// SQL normalization and redaction, shared by the PostgreSQL and MySQL
// parsers: the statement text that leaves the parser.
//   - string, numeric, hex/bit, dollar-quoted and E'' literals -> ?
//     (a sign directly in front of a number is part of the literal when it
//     cannot be a binary operator: `= -5` -> `= ?`, but `a - 5` -> `a - ?`)
//   - IN (?, ?, ?) and VALUES (?, ?), (?, ?) lists -> IN (...), VALUES (...)
//     (only lists made of literals, placeholders, NULL/DEFAULT/TRUE/FALSE;
//     `IN (SELECT ...)` or `VALUES (now())` stay as they are)
//   - comments (-- ..., /* ... */, # ... for MySQL) removed; but MySQL's
//     executable comments (/*!40101 SET NAMES utf8mb4 */, /*M! ... */) are
//     SQL the server runs: their text stays, without the comment markers
//   - whitespace folded to single spaces, trimmed; trailing `;` dropped
//   - keywords keep their case; identifiers ("quoted" or `quoted`) are kept;
//     $1 / ? placeholders are kept as they are.
// Dialects: PostgreSQL has nested /* */ comments, E'..' (backslash escapes),
// $tag$..$tag$ and "identifiers"; MySQL has # comments, `identifiers`,
// "double quoted" string literals and backslash escapes in all strings.
// Never fails: garbage in, best-effort text out (unterminated literals are
// redacted to the end).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace waitscope::protocols {

enum class SqlDialect { kPostgres, kMysql };

std::string NormalizeSql(std::string_view sql, SqlDialect dialect);

struct SqlNormalizeOptions {
  // Keep literal values (ParserOptions::capture_values): comments and
  // whitespace are still folded, lists are not collapsed.
  bool keep_literals = false;
};
std::string NormalizeSql(std::string_view sql, SqlDialect dialect,
                         const SqlNormalizeOptions& options);

// Splits a multi-statement query string (PostgreSQL simple Query, MySQL
// COM_QUERY with CLIENT_MULTI_STATEMENTS) at top-level `;`, using the same
// lexer as NormalizeSql so `;` inside literals, identifiers and comments do
// not split. Statements that are empty or only comments are dropped, which
// matches what the servers execute (they answer those with nothing).
// The returned views point into `sql`.
std::vector<std::string_view> SplitSqlStatements(std::string_view sql, SqlDialect dialect);

// NormalizeSql of each statement SplitSqlStatements finds (the first
// `max_statements`), from one pass of the lexer over `sql`.
std::vector<std::string> NormalizeSqlStatements(std::string_view sql, SqlDialect dialect,
                                                const SqlNormalizeOptions& options,
                                                std::size_t max_statements);

}  // namespace waitscope::protocols
