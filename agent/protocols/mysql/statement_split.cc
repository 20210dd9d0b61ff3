#include "protocols/mysql/statement_split.h"

namespace waitscope::protocols::mysql {
namespace {

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

// Index just past the quoted literal/identifier that starts at `i`.
std::size_t SkipQuoted(std::string_view s, std::size_t i) {
  const char quote = s[i];
  for (std::size_t j = i + 1; j < s.size(); ++j) {
    if (s[j] == '\\' && quote != '`') {
      ++j;  // MySQL backslash escapes (unless NO_BACKSLASH_ESCAPES: harmless here)
    } else if (s[j] == quote) {
      if (j + 1 < s.size() && s[j + 1] == quote) {
        ++j;  // doubled quote
      } else {
        return j + 1;
      }
    }
  }
  return s.size();
}

}  // namespace

std::vector<std::string_view> SplitStatements(std::string_view sql) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  std::size_t i = 0;
  auto emit = [&](std::size_t end) { parts.push_back(Trim(sql.substr(start, end - start))); };
  while (i < sql.size()) {
    const char c = sql[i];
    if (c == '\'' || c == '"' || c == '`') {
      i = SkipQuoted(sql, i);
    } else if (c == '#' ||
               (c == '-' && i + 2 < sql.size() && sql[i + 1] == '-' && IsSpace(sql[i + 2]))) {
      std::size_t nl = sql.find('\n', i);
      i = nl == std::string_view::npos ? sql.size() : nl + 1;
    } else if (c == '/' && i + 1 < sql.size() && sql[i + 1] == '*') {
      std::size_t end = sql.find("*/", i + 2);
      i = end == std::string_view::npos ? sql.size() : end + 2;
    } else if (c == ';') {
      emit(i);
      start = ++i;
    } else {
      ++i;
    }
  }
  emit(sql.size());
  while (!parts.empty() && parts.back().empty()) parts.pop_back();
  return parts;
}

}  // namespace waitscope::protocols::mysql
