// SqlPreparedStatements on statement texts as the PostgreSQL parser reports
// them (normalized) and as --capture-values keeps them (raw).
#include <gtest/gtest.h>

#include <string>

#include "protocols/postgres/sql_prepared.h"

namespace waitscope::protocols::postgres {
namespace {

std::string Runs(const SqlPreparedStatements& s, std::string_view execute) {
  const std::string* r = s.Resolve(execute);
  return r ? *r : std::string("(none)");
}

TEST(SqlPrepared, ExecuteRunsWhatItsPrepareNamed) {
  SqlPreparedStatements s;
  EXPECT_EQ(Runs(s, "EXECUTE q(?)"), "(none)");
  s.Ran("PREPARE q(int, text) AS SELECT $1 + ?, $2");
  s.Ran("prepare Plain as\n  UPDATE t SET a = $1;");
  s.Ran("PREPARE \"Mixed Case\"(numeric(?, ?)) AS SELECT $1");
  EXPECT_EQ(Runs(s, "EXECUTE q(?, ?)"), "SELECT $1 + ?, $2");
  EXPECT_EQ(Runs(s, "execute Q (?)"), "SELECT $1 + ?, $2");  // unquoted names fold
  EXPECT_EQ(Runs(s, "EXECUTE plain"), "UPDATE t SET a = $1");
  EXPECT_EQ(Runs(s, "EXECUTE \"Mixed Case\"(?)"), "SELECT $1");
  EXPECT_EQ(Runs(s, "EXECUTE mixed(?)"), "(none)");  // quoted names keep their case
  EXPECT_EQ(Runs(s, "EXECUTE qq(?)"), "(none)");
  EXPECT_EQ(Runs(s, "EXPLAIN EXECUTE q(?)"), "(none)");
  EXPECT_EQ(Runs(s, "EXECUTED"), "(none)");
  EXPECT_EQ(s.size(), 3u);
}

TEST(SqlPrepared, DeallocateAndDiscardForget) {
  SqlPreparedStatements s;
  s.Ran("PREPARE a AS SELECT ?");
  s.Ran("PREPARE b AS SELECT ?");
  s.Ran("PREPARE prepare AS SELECT ?");
  s.Ran("DEALLOCATE a");
  EXPECT_EQ(Runs(s, "EXECUTE a"), "(none)");
  EXPECT_EQ(Runs(s, "EXECUTE b"), "SELECT ?");
  s.Ran("DEALLOCATE PREPARE prepare");
  EXPECT_EQ(Runs(s, "EXECUTE prepare"), "(none)");
  s.Ran("PREPARE prepare AS SELECT ?");
  s.Ran("DEALLOCATE prepare");  // the name, not the optional keyword
  EXPECT_EQ(Runs(s, "EXECUTE prepare"), "(none)");
  s.Ran("DEALLOCATE ALL");
  EXPECT_EQ(s.size(), 0u);
  s.Ran("PREPARE c AS SELECT ?");
  s.Ran("DISCARD PLANS");  // keeps prepared statements
  EXPECT_EQ(s.size(), 1u);
  s.Ran("DISCARD ALL");
  EXPECT_EQ(s.size(), 0u);
}

TEST(SqlPrepared, NotPreparesAreIgnored) {
  SqlPreparedStatements s;
  for (const char* text :
       {"PREPARE", "PREPARE q", "PREPARE q AS", "PREPARE q(int AS SELECT ?",
        "PREPARE 1q AS SELECT ?", "PREPARE \"\" AS SELECT ?", "PREPARE \"open AS SELECT ?",
        "PREPARED q AS SELECT ?", "PREPARE TRANSACTION ?", "SELECT ?", "", "DEALLOCATE", ";"}) {
    s.Ran(text);
  }
  EXPECT_EQ(s.size(), 0u);
  // PREPARE TRANSACTION 'x' is two-phase commit, not a statement named
  // "transaction"; normalized, its literal is `?` and there is no AS.
}

TEST(SqlPrepared, NamesAreBounded) {
  SqlPreparedStatements s;
  for (std::size_t i = 0; i < SqlPreparedStatements::kMaxNames + 10; ++i) {
    s.Ran("PREPARE s" + std::to_string(i) + " AS SELECT ?");
  }
  EXPECT_EQ(s.size(), SqlPreparedStatements::kMaxNames);
  const std::string last = "EXECUTE s" + std::to_string(SqlPreparedStatements::kMaxNames + 9);
  EXPECT_EQ(Runs(s, last), "SELECT ?");
}

}  // namespace
}  // namespace waitscope::protocols::postgres
