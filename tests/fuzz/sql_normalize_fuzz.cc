// libFuzzer target for the shared SQL normalizer and splitter: any bytes,
// both dialects; must not crash or read out of bounds.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "protocols/sql/normalize.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using waitscope::protocols::SqlDialect;
  std::string_view sql(reinterpret_cast<const char*>(data), size);
  for (SqlDialect d : {SqlDialect::kPostgres, SqlDialect::kMysql}) {
    (void)waitscope::protocols::NormalizeSql(sql, d);
    waitscope::protocols::SqlNormalizeOptions keep;
    keep.keep_literals = true;
    (void)waitscope::protocols::NormalizeSql(sql, d, keep);
    for (std::string_view stmt : waitscope::protocols::SplitSqlStatements(sql, d)) {
      (void)waitscope::protocols::NormalizeSql(stmt, d);
    }
  }
  return 0;
}
