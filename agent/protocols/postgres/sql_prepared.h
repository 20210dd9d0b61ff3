// SQL-level prepared statements of one PostgreSQL session: `PREPARE name
// [(types)] AS statement`, `EXECUTE name [(args)]`, `DEALLOCATE [PREPARE]
// name | ALL` and `DISCARD ALL`, sent as SQL text (simple or extended
// protocol), not through the protocol's Parse/Bind.
//
// pg_stat_statements files each EXECUTE under its PREPARE's statement. The
// parser reports an EXECUTE of a known name as the statement it runs, so a
// slow EXECUTE names its SQL; the PREPARE itself stays its own exchange.
// Statements are the parser's reported texts: normalized (comments gone,
// literals `?`), or raw with --capture-values.
// Not thread-safe: one per connection.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_map>

namespace waitscope::protocols::postgres {

class SqlPreparedStatements {
 public:
  // Names remembered per session; a leaking client's oldest are forgotten.
  static constexpr std::size_t kMaxNames = 4096;

  // The statement an EXECUTE of a known name runs, else nullptr.
  const std::string* Resolve(std::string_view statement) const;
  // Applies a statement the server ran without error: PREPARE adds its
  // name, DEALLOCATE and DISCARD ALL remove names.
  void Ran(std::string_view statement);

  std::size_t size() const { return by_name_.size(); }

 private:
  std::unordered_map<std::string, std::string> by_name_;
};

}  // namespace waitscope::protocols::postgres
