// Table-driven tests of the shared SQL normalizer and statement splitter
// (protocols/sql/normalize.h), for both dialects.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "protocols/sql/normalize.h"

namespace waitscope::protocols {
namespace {

struct Case {
  const char* in;
  const char* want;
};

void Check(SqlDialect d, const std::vector<Case>& cases) {
  for (const Case& c : cases) EXPECT_EQ(NormalizeSql(c.in, d), c.want) << "input: " << c.in;
}

TEST(SqlNormalize, BothDialects) {
  const std::vector<Case> cases = {
      {"SELECT 1", "SELECT ?"},
      {"  select  *\n\tfrom t   where a=1  ", "select * from t where a=?"},
      {"SELECT * FROM t WHERE name = 'bob'", "SELECT * FROM t WHERE name = ?"},
      {"SELECT 'it''s'", "SELECT ?"},
      {"SELECT 1.5, .5, 1e10, 2.5E-3, 1e+4", "SELECT ?, ?, ?, ?, ?"},
      {"SELECT 0x1F, X'1F', x'ab', B'0101'", "SELECT ?, ?, ?, ?"},
      {"SELECT a FROM t WHERE id IN (1, 2, 3)", "SELECT a FROM t WHERE id IN (...)"},
      {"SELECT a FROM t WHERE id in(1,2)", "SELECT a FROM t WHERE id in (...)"},
      {"SELECT a FROM t WHERE id IN ('a', NULL, -4)", "SELECT a FROM t WHERE id IN (...)"},
      {"SELECT a FROM t WHERE id IN (SELECT id FROM u WHERE x = 1)",
       "SELECT a FROM t WHERE id IN (SELECT id FROM u WHERE x = ?)"},
      {"SELECT a FROM t WHERE id IN (lower('A'))", "SELECT a FROM t WHERE id IN (lower(?))"},
      {"INSERT INTO t (a, b) VALUES (1, 'x'), (2, 'y'), (3, DEFAULT)",
       "INSERT INTO t (a, b) VALUES (...)"},
      {"INSERT INTO t VALUES (1, now())", "INSERT INTO t VALUES (?, now())"},
      {"INSERT INTO t VALUES (1), (now())", "INSERT INTO t VALUES (?), (now())"},
      {"SELECT a - 5, a -5, a-5", "SELECT a - ?, a -?, a-?"},
      {"SELECT -5, x = -5, f(-1, +2), (-3)", "SELECT ?, x = ?, f(?, ?), (?)"},
      {"SELECT 1 - -2", "SELECT ? - ?"},
      {"UPDATE t SET x = x + -4301 WHERE id = 7", "UPDATE t SET x = x + ? WHERE id = ?"},
      {"SELECT a FROM t LIMIT 10 OFFSET -0", "SELECT a FROM t LIMIT ? OFFSET ?"},
      {"SELECT t1.c2 FROM t1", "SELECT t1.c2 FROM t1"},
      {"SELECT col1 FROM tab2", "SELECT col1 FROM tab2"},
      {"SELECT 1 -- trailing comment", "SELECT ?"},
      {"SELECT /* hi */ 1", "SELECT ?"},
      {"SELECT/**/1", "SELECT ?"},
      {"/* leading */ SELECT 1", "SELECT ?"},
      {"BEGIN;", "BEGIN"},
      {"END ; ;", "END"},
      {"SELECT 'unterminated", "SELECT ?"},
      {"SELECT 1 /* unterminated", "SELECT ?"},
      {"SELECT 'héllo wörld', näme FROM tâble", "SELECT ?, näme FROM tâble"},
      {"SELECT * FROM t WHERE a = ? AND b = ?", "SELECT * FROM t WHERE a = ? AND b = ?"},
      {"SELECT N'abc'", "SELECT ?"},
      {"", ""},
      {"   \n ", ""},
      {"-- only a comment", ""},
      {"SELECT a<=-1, a<>2", "SELECT a<=?, a<>?"},
      {"SELECT CASE WHEN a THEN -1 ELSE 2 END", "SELECT CASE WHEN a THEN ? ELSE ? END"},
  };
  Check(SqlDialect::kPostgres, cases);
  Check(SqlDialect::kMysql, cases);
}

TEST(SqlNormalize, Postgres) {
  Check(SqlDialect::kPostgres,
        {
            {"SELECT \"Weird Col\", \"a\"\"b\" FROM \"T\" WHERE x = 1",
             "SELECT \"Weird Col\", \"a\"\"b\" FROM \"T\" WHERE x = ?"},
            {"SELECT $1, $2::int + 1", "SELECT $1, $2::int + ?"},
            {"SELECT * FROM t WHERE id IN ($1, $2, $3)", "SELECT * FROM t WHERE id IN (...)"},
            {"SELECT E'a\\'b', e'x'", "SELECT ?, ?"},
            {"SELECT 'a\\', 2", "SELECT ?, ?"},  // standard strings: backslash is plain
            {"SELECT U&'d\\0061t'", "SELECT ?"},
            {"DO $$BEGIN RAISE NOTICE 'hi'; END$$", "DO ?"},
            {"SELECT $fn$ it's $$ inside $fn$, 1", "SELECT ?, ?"},
            {"SELECT $tag$ unterminated", "SELECT ?"},
            {"SELECT /* a /* nested */ still comment */ 1", "SELECT ?"},
            {"SELECT a FROM t -- c\nWHERE b = 'x'", "SELECT a FROM t WHERE b = ?"},
            {"SELECT 1--2", "SELECT ?"},
            {"SELECT a$b FROM t", "SELECT a$b FROM t"},
            {"SELECT '1'::jsonb ? 'k'", "SELECT ?::jsonb ? ?"},
            {"SELECT 1_000_000, 0o17, 0b101", "SELECT ?, ?, ?"},
            {"SELECT `x`", "SELECT `x`"},
        });
}

TEST(SqlNormalize, Mysql) {
  Check(SqlDialect::kMysql,
        {
            {"SELECT `Weird Col` FROM `t``x` WHERE a = 1",
             "SELECT `Weird Col` FROM `t``x` WHERE a = ?"},
            {"SELECT \"double quoted is a string\"", "SELECT ?"},
            {"SELECT 'a\\'b', \"c\\\"d\", 3", "SELECT ?, ?, ?"},
            {"SELECT 1 # hash comment\nFROM t", "SELECT ? FROM t"},
            {"SELECT 1 -- dash comment", "SELECT ?"},
            {"SELECT 1--1", "SELECT ?-?"},  // no space after --: minus minus
            {"SELECT /* a /* not nested */ 1", "SELECT ?"},
            {"SELECT _utf8mb4'abc'", "SELECT ?"},
            {"INSERT INTO t VALUES (?, ?), (?, ?)", "INSERT INTO t VALUES (...)"},
            {"INSERT INTO t (a) VALUES (1) ON DUPLICATE KEY UPDATE a = VALUES(a)",
             "INSERT INTO t (a) VALUES (...) ON DUPLICATE KEY UPDATE a = VALUES(a)"},
            {"SELECT $1", "SELECT $1"},  // an identifier in MySQL
            {"SELECT E'x'", "SELECT E?"},
        });
}

// What MariaDB 10.11 answered for each of these (tests/bpf drive the same
// forms through a real server: MariadbTest.test_executable_comments).
TEST(SqlNormalize, MysqlExecutableCommentsAreSql) {
  Check(SqlDialect::kMysql,
        {
            {"/*!40101 SET NAMES utf8mb4 */", "SET NAMES utf8mb4"},
            {"/*!40101 SET @OLD_CSC=@@CHARACTER_SET_CLIENT */",
             "SET @OLD_CSC=@@CHARACTER_SET_CLIENT"},
            {"SELECT /*!50000 3 */", "SELECT ?"},
            {"SELECT /*!100000 2 */", "SELECT ?"},  // MariaDB's 6-digit versions
            {"SELECT /*M!100000 5 */", "SELECT ?"},
            {"SELECT /*! 8 */", "SELECT ?"},
            {"SELECT /*!50000 4*/, 1", "SELECT ?, ?"},  // `*/` right after a token
            {"SELECT /*!50000 '*/' */", "SELECT ?"},    // `*/` in a literal does not close it
            {"SELECT /*!50000 /* inner */ 1 */", "SELECT ?"},
            {"SELECT /*+ hint */ 10", "SELECT ?"},  // an optimizer hint stays a comment
            {"SELECT /*!50000 1", "SELECT ?"},      // unterminated
            {"SELECT 2*/3", "SELECT ?*/?"},         // not inside one: operators
        });
  // Only MySQL has them.
  EXPECT_EQ(NormalizeSql("SELECT /*!50000 3 */ 1", SqlDialect::kPostgres), "SELECT ?");
}

TEST(SqlNormalize, KeepLiteralsFoldsOnlyCommentsAndSpace) {
  SqlNormalizeOptions keep;
  keep.keep_literals = true;
  EXPECT_EQ(NormalizeSql(" SELECT  'a'  /* c */, 1 IN (1, 2);", SqlDialect::kPostgres, keep),
            "SELECT 'a' , 1 IN (1, 2)");
  EXPECT_EQ(NormalizeSql("SELECT -5", SqlDialect::kMysql, keep), "SELECT -5");
}

TEST(SqlSplit, StatementsAtTopLevelSemicolons) {
  using V = std::vector<std::string_view>;
  EXPECT_EQ(SplitSqlStatements("SELECT 1; SELECT 2", SqlDialect::kPostgres),
            (V{"SELECT 1", "SELECT 2"}));
  EXPECT_EQ(SplitSqlStatements("SELECT ';'; SELECT \";\" ; -- x;\n", SqlDialect::kPostgres),
            (V{"SELECT ';'", "SELECT \";\""}));
  EXPECT_EQ(SplitSqlStatements("DO $$ a; b $$; SELECT 1;;", SqlDialect::kPostgres),
            (V{"DO $$ a; b $$", "SELECT 1"}));
  EXPECT_EQ(SplitSqlStatements("/* ; */ SELECT 1 /* ; */", SqlDialect::kPostgres), (V{"SELECT 1"}));
  EXPECT_EQ(SplitSqlStatements(";", SqlDialect::kPostgres), V{});
  EXPECT_EQ(SplitSqlStatements("", SqlDialect::kPostgres), V{});
  EXPECT_EQ(SplitSqlStatements("SELECT 1 # ;\n; SELECT `;`", SqlDialect::kMysql),
            (V{"SELECT 1", "SELECT `;`"}));
  EXPECT_EQ(SplitSqlStatements("SELECT 'unterminated; SELECT 2", SqlDialect::kMysql),
            (V{"SELECT 'unterminated; SELECT 2"}));
}

TEST(SqlSplit, EachStatementNormalizedFromOneLexerPass) {
  using V = std::vector<std::string>;
  const SqlNormalizeOptions redact;
  EXPECT_EQ(NormalizeSqlStatements("SELECT 1; /* c */ UPDATE t SET a = 'x' -- y\n;",
                                   SqlDialect::kPostgres, redact, 10),
            (V{"SELECT ?", "UPDATE t SET a = ?"}));
  EXPECT_EQ(NormalizeSqlStatements("  -- only a comment\n", SqlDialect::kPostgres, redact, 10),
            V{});
  EXPECT_EQ(
      NormalizeSqlStatements("SELECT -5; SELECT 2; SELECT 3", SqlDialect::kPostgres, redact, 2),
      (V{"SELECT ?", "SELECT ?"}));  // a unary sign after a split is part of its number
  SqlNormalizeOptions keep;
  keep.keep_literals = true;
  EXPECT_EQ(NormalizeSqlStatements("SELECT 1;SELECT  'a'", SqlDialect::kPostgres, keep, 10),
            (V{"SELECT 1", "SELECT 'a'"}));
}

}  // namespace
}  // namespace waitscope::protocols
