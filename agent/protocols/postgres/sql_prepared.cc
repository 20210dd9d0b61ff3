#include "protocols/postgres/sql_prepared.h"

#include <optional>
#include <string>
#include <string_view>

#include "protocols/common/ascii.h"

namespace waitscope::protocols::postgres {
namespace {

bool IsIdentChar(char c) {
  // PostgreSQL identifiers: letters, digits, '_', '$' and any non-ASCII byte.
  return IsAlpha(c) || IsDigit(c) || c == '_' || c == '$' || static_cast<unsigned char>(c) >= 0x80;
}

// A left-to-right reader of the few tokens these statements start with.
class Tokens {
 public:
  explicit Tokens(std::string_view s) : s_(s) {}

  // Consumes `word` (any case) if it is the next token.
  bool Keyword(std::string_view word) {
    SkipSpace();
    if (s_.size() < word.size() || !EqualsIgnoreCase(s_.substr(0, word.size()), word)) return false;
    if (s_.size() > word.size() && IsIdentChar(s_[word.size()])) return false;
    s_.remove_prefix(word.size());
    return true;
  }

  // A name as the server keys it: unquoted ones fold to lower case, quoted
  // ones keep theirs ("" is a quote inside). nullopt if none is next.
  std::optional<std::string> Name() {
    SkipSpace();
    std::string name;
    if (!s_.empty() && s_[0] == '"') {
      for (std::size_t i = 1; i < s_.size(); ++i) {
        if (s_[i] != '"') {
          name.push_back(s_[i]);
        } else if (i + 1 < s_.size() && s_[i + 1] == '"') {
          name.push_back('"');
          ++i;
        } else {
          s_.remove_prefix(i + 1);
          return name.empty() ? std::nullopt : std::optional<std::string>(name);
        }
      }
      return std::nullopt;  // unterminated
    }
    std::size_t n = 0;
    while (n < s_.size() && IsIdentChar(s_[n])) name.push_back(ToLowerAscii(s_[n++]));
    if (n == 0 || IsDigit(s_[0])) return std::nullopt;
    s_.remove_prefix(n);
    return name;
  }

  // Skips a parenthesized list (parameter types: `numeric(10, 2)` nests).
  bool SkipParens() {
    SkipSpace();
    if (s_.empty() || s_[0] != '(') return false;
    int depth = 0;
    for (std::size_t i = 0; i < s_.size(); ++i) {
      if (s_[i] == '(') ++depth;
      if (s_[i] == ')' && --depth == 0) {
        s_.remove_prefix(i + 1);
        return true;
      }
    }
    return false;
  }

  bool AtEnd() {
    SkipSpace();
    return s_.empty() || s_ == ";";
  }

  std::string_view Rest() {
    SkipSpace();
    std::string_view rest = s_;
    while (!rest.empty() && (IsSpace(rest.back()) || rest.back() == ';')) rest.remove_suffix(1);
    return rest;
  }

 private:
  void SkipSpace() {
    while (!s_.empty() && IsSpace(s_[0])) s_.remove_prefix(1);
  }
  std::string_view s_;
};

// The name an EXECUTE names, if `statement` is one.
std::optional<std::string> ExecutedName(std::string_view statement) {
  Tokens t(statement);
  if (!t.Keyword("EXECUTE")) return std::nullopt;
  return t.Name();
}

}  // namespace

const std::string* SqlPreparedStatements::Resolve(std::string_view statement) const {
  // Cheap reject first: this runs for every statement the parser reports.
  if (by_name_.empty() || statement.empty() || ToLowerAscii(statement[0]) != 'e') return nullptr;
  std::optional<std::string> name = ExecutedName(statement);
  if (!name) return nullptr;
  auto it = by_name_.find(*name);
  return it == by_name_.end() ? nullptr : &it->second;
}

void SqlPreparedStatements::Ran(std::string_view statement) {
  if (statement.empty()) return;
  const char first = ToLowerAscii(statement[0]);
  if (first != 'p' && first != 'd') return;
  Tokens t(statement);
  if (t.Keyword("PREPARE")) {
    std::optional<std::string> name = t.Name();
    if (!name) return;
    if (!t.Keyword("AS")) {
      if (!t.SkipParens() || !t.Keyword("AS")) return;
    }
    std::string_view body = t.Rest();
    if (body.empty()) return;
    if (by_name_.size() >= kMaxNames && !by_name_.contains(*name)) by_name_.erase(by_name_.begin());
    by_name_[*name] = std::string(body);
  } else if (t.Keyword("DEALLOCATE")) {
    const Tokens before = t;
    if (t.Keyword("PREPARE") && t.AtEnd()) t = before;  // a statement named "prepare"
    if (t.Keyword("ALL")) {
      if (t.AtEnd()) by_name_.clear();
      return;
    }
    if (std::optional<std::string> name = t.Name(); name && t.AtEnd()) by_name_.erase(*name);
  } else if (t.Keyword("DISCARD")) {
    if (t.Keyword("ALL") && t.AtEnd()) by_name_.clear();
  }
}

}  // namespace waitscope::protocols::postgres
