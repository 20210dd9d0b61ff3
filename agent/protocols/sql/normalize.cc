// SQL normalizer and statement splitter: a small hand-written lexer (enough
// SQL to find literals, identifiers, comments and statement boundaries) plus
// one pass that redacts literals and collapses value lists. See normalize.h.
#include "protocols/sql/normalize.h"

#include <cstddef>
#include <cstdint>
#include <span>

#include "protocols/common/ascii.h"

namespace waitscope::protocols {
namespace {

enum class Kind : std::uint8_t {
  kWord,         // keyword or bare identifier
  kQuotedIdent,  // "ident" (Postgres), `ident` (MySQL): kept verbatim
  kString,       // string, bit/hex string, dollar-quoted: redacted
  kNumber,       // numeric literal: redacted
  kPlaceholder,  // $1, ?: kept verbatim
  kOpenParen,
  kCloseParen,
  kComma,
  kSemicolon,
  kOther,  // operators and anything else, one byte each
};

struct Token {
  Kind kind;
  std::size_t begin;
  std::size_t end;
  bool space_before;  // whitespace or a comment separated it from the previous token
};

bool IsSpace(unsigned char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
bool IsDigit(unsigned char c) {
  return c >= '0' && c <= '9';
}
bool IsAlpha(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
// Bytes >= 0x80 are parts of UTF-8 identifiers in both servers.
bool IsWordStart(unsigned char c) {
  return IsAlpha(c) || c == '_' || c >= 0x80;
}
bool IsWordChar(unsigned char c) {
  return IsWordStart(c) || IsDigit(c) || c == '$';
}

class Lexer {
 public:
  Lexer(std::string_view s, SqlDialect d) : s_(s), d_(d) {}

  // Appends every token of the input to `out`.
  void Run(std::vector<Token>& out) {
    Token t;
    while (Next(t)) out.push_back(t);
  }

 private:
  unsigned char At(std::size_t i) const {
    return i < s_.size() ? static_cast<unsigned char>(s_[i]) : 0;
  }
  bool Has(std::size_t i) const { return i < s_.size(); }

  // Skips whitespace and comments; true if anything was skipped.
  bool SkipSpace() {
    bool skipped = false;
    while (Has(i_)) {
      unsigned char c = At(i_);
      if (IsSpace(c)) {
        ++i_;
      } else if (c == '-' && At(i_ + 1) == '-' &&
                 // MySQL needs whitespace (or the end) after `--`: `1--1` is 1 - -1.
                 (d_ == SqlDialect::kPostgres || !Has(i_ + 2) || IsSpace(At(i_ + 2)) ||
                  At(i_ + 2) < 0x20)) {
        SkipLine();
      } else if (c == '#' && d_ == SqlDialect::kMysql) {
        SkipLine();
      } else if (c == '/' && At(i_ + 1) == '*') {
        // An executable comment's markers are not space: `4*/,` is `4,`.
        if (OpenExecutableComment()) continue;
        SkipBlockComment();
      } else if (in_executable_ && c == '*' && At(i_ + 1) == '/') {
        i_ += 2;  // the end of an executable comment: what it held was SQL
        in_executable_ = false;
        continue;
      } else {
        break;
      }
      skipped = true;
    }
    return skipped;
  }
  void SkipLine() {
    while (Has(i_) && At(i_) != '\n') ++i_;
  }
  void SkipBlockComment() {
    // Postgres nests /* */ comments; MySQL ends at the first */.
    int depth = 0;
    while (Has(i_)) {
      if (At(i_) == '/' && At(i_ + 1) == '*') {
        if (depth == 0 || d_ == SqlDialect::kPostgres) ++depth;
        i_ += 2;
      } else if (At(i_) == '*' && At(i_ + 1) == '/') {
        i_ += 2;
        if (--depth == 0) return;
      } else {
        ++i_;
      }
    }
  }
  // MySQL and MariaDB run the text of /*! ... */ (and MariaDB's /*M! ... */),
  // optionally after a server version of 5 or 6 digits: mysqldump writes
  // whole statements that way (`/*!40101 SET NAMES utf8mb4 */`), which as a
  // comment would normalize to nothing. Their text is lexed as SQL whatever
  // the version: which versions a server skips is its own (MariaDB skips
  // MySQL 5.7+ ones), and a skipped part only adds tokens to the text. True
  // if i_ (at `/*`) opened one; i_ is then past the opener and version.
  bool OpenExecutableComment() {
    if (d_ != SqlDialect::kMysql || in_executable_) return false;
    std::size_t j = i_ + 2;
    if (At(j) == 'M' && At(j + 1) == '!') {
      ++j;
    } else if (At(j) != '!') {
      return false;
    }
    ++j;
    std::size_t digits = 0;
    while (digits < 6 && IsDigit(At(j + digits))) ++digits;
    i_ = j + digits;
    in_executable_ = true;
    return true;
  }
  // From the opening quote at i_; `''` (or the doubled quote) is an escaped
  // quote, a backslash escapes one byte when `backslash`. Unterminated: to the end.
  void SkipQuoted(unsigned char quote, bool backslash) {
    ++i_;
    while (Has(i_)) {
      unsigned char c = At(i_);
      if (backslash && c == '\\') {
        i_ += 2;
      } else if (c == quote && At(i_ + 1) == quote) {
        i_ += 2;
      } else if (c == quote) {
        ++i_;
        return;
      } else {
        ++i_;
      }
    }
    i_ = s_.size();
  }
  // $tag$ ... $tag$ (Postgres). False if i_ does not start a dollar quote.
  bool SkipDollarQuote() {
    std::size_t j = i_ + 1;
    if (At(j) != '$') {
      if (!IsWordStart(At(j))) return false;
      while (Has(j) && IsWordChar(At(j)) && At(j) != '$') ++j;
      if (At(j) != '$') return false;
    }
    std::string_view tag = s_.substr(i_, j + 1 - i_);
    std::size_t close = s_.find(tag, j + 1);
    i_ = close == std::string_view::npos ? s_.size() : close + tag.size();
    return true;
  }
  void SkipNumber() {
    if (At(i_) == '0' &&
        (ToLowerAscii(static_cast<char>(At(i_ + 1))) == 'x' ||
         ToLowerAscii(static_cast<char>(At(i_ + 1))) == 'b' ||
         ToLowerAscii(static_cast<char>(At(i_ + 1))) == 'o') &&
        (IsDigit(At(i_ + 2)) || IsAlpha(At(i_ + 2)))) {
      i_ += 2;
      while (Has(i_) && (IsDigit(At(i_)) || IsAlpha(At(i_)) || At(i_) == '_')) ++i_;
      return;
    }
    while (Has(i_) && (IsDigit(At(i_)) || At(i_) == '_')) ++i_;
    if (At(i_) == '.') {
      ++i_;
      while (Has(i_) && (IsDigit(At(i_)) || At(i_) == '_')) ++i_;
    }
    if (ToLowerAscii(static_cast<char>(At(i_))) == 'e' &&
        (IsDigit(At(i_ + 1)) ||
         ((At(i_ + 1) == '+' || At(i_ + 1) == '-') && IsDigit(At(i_ + 2))))) {
      i_ += 2;
      while (Has(i_) && IsDigit(At(i_))) ++i_;
    }
  }

  bool Next(Token& t) {
    t.space_before = SkipSpace();
    if (!Has(i_)) return false;
    t.begin = i_;
    t.kind = Lex();
    t.end = i_;
    return true;
  }

  Kind Lex() {
    const bool pg = d_ == SqlDialect::kPostgres;
    unsigned char c = At(i_);
    if (c == '\'') {
      SkipQuoted('\'', !pg);
      return Kind::kString;
    }
    if (c == '"') {
      SkipQuoted('"', !pg);
      return pg ? Kind::kQuotedIdent : Kind::kString;
    }
    if (c == '`' && !pg) {
      SkipQuoted('`', false);
      return Kind::kQuotedIdent;
    }
    if (c == '$' && pg) {
      if (IsDigit(At(i_ + 1))) {
        ++i_;
        while (Has(i_) && IsDigit(At(i_))) ++i_;
        return Kind::kPlaceholder;
      }
      if (SkipDollarQuote()) return Kind::kString;
      ++i_;
      return Kind::kOther;
    }
    if (c == '?') {
      ++i_;
      return Kind::kPlaceholder;
    }
    if (IsDigit(c) || (c == '.' && IsDigit(At(i_ + 1)))) {
      SkipNumber();
      return Kind::kNumber;
    }
    if (IsWordStart(c) || (c == '$' && !pg)) {
      std::size_t start = i_;
      while (Has(i_) && IsWordChar(At(i_))) ++i_;
      std::string_view word = s_.substr(start, i_ - start);
      if (At(i_) == '\'') {
        // Prefixed strings: B'0101', X'1F', N'text', E'esc\n' (Postgres),
        // _utf8mb4'text' (MySQL character set introducer).
        char p = word.size() == 1 ? ToLowerAscii(word[0]) : 0;
        if (p == 'b' || p == 'x' || p == 'n' || (p == 'e' && pg) || (!pg && word[0] == '_')) {
          SkipQuoted('\'', !pg || p == 'e');
          return Kind::kString;
        }
      }
      if (pg && word.size() == 1 && ToLowerAscii(word[0]) == 'u' && At(i_) == '&' &&
          At(i_ + 1) == '\'') {
        ++i_;
        SkipQuoted('\'', false);
        return Kind::kString;
      }
      return Kind::kWord;
    }
    ++i_;
    switch (c) {
      case '(':
        return Kind::kOpenParen;
      case ')':
        return Kind::kCloseParen;
      case ',':
        return Kind::kComma;
      case ';':
        return Kind::kSemicolon;
      default:
        return Kind::kOther;
    }
  }

  std::string_view s_;
  SqlDialect d_;
  std::size_t i_ = 0;
  bool in_executable_ = false;  // inside /*! ... */ (MySQL)
};

// Keywords after which `-5` is a negative number, not a subtraction.
bool IsOperatorKeyword(std::string_view w) {
  static constexpr std::string_view kWords[] = {
      "select", "where", "and",    "or",     "not",      "values",  "in",      "set",      "then",
      "else",   "when",  "return", "limit",  "offset",   "by",      "between", "like",     "is",
      "on",     "as",    "case",   "having", "interval", "default", "array",   "returning"};
  for (std::string_view k : kWords) {
    if (EqualsIgnoreCase(w, k)) return true;
  }
  return false;
}

class Normalizer {
 public:
  // `toks`: tokens of `sql` (all of them, or one statement's).
  Normalizer(std::string_view sql, std::span<const Token> toks, bool keep_literals)
      : s_(sql), t_(toks), keep_(keep_literals) {}

  std::string Run() {
    // The text only shrinks, but for " (...)".
    if (!t_.empty()) out_.reserve(t_.back().end - t_.front().begin);
    std::size_t n = t_.size();
    while (n > 0 && t_[n - 1].kind == Kind::kSemicolon) --n;  // `BEGIN;` == `BEGIN`
    for (std::size_t i = 0; i < n;) i = Emit(i, n);
    return std::move(out_);
  }

 private:
  std::string_view Text(std::size_t i) const {
    return s_.substr(t_[i].begin, t_[i].end - t_[i].begin);
  }
  bool IsWord(std::size_t i, std::string_view w) const {
    return t_[i].kind == Kind::kWord && EqualsIgnoreCase(Text(i), w);
  }
  bool IsSign(std::size_t i) const {
    return t_[i].kind == Kind::kOther && (Text(i) == "-" || Text(i) == "+");
  }
  // A sign at i is unary (part of a number) when the token before it cannot
  // end an operand.
  bool IsUnarySign(std::size_t i, std::size_t n) const {
    if (!IsSign(i) || i + 1 >= n || t_[i + 1].kind != Kind::kNumber) return false;
    if (i == 0) return true;
    const Token& p = t_[i - 1];
    switch (p.kind) {
      case Kind::kOther:
      case Kind::kOpenParen:
      case Kind::kComma:
      case Kind::kSemicolon:
        return true;
      case Kind::kWord:
        return IsOperatorKeyword(Text(i - 1));
      default:
        return false;
    }
  }
  // Parses `( item, item, ... )` at i where every item is a literal,
  // placeholder or NULL/DEFAULT/TRUE/FALSE. Returns the index after `)`, or 0.
  std::size_t SimpleList(std::size_t i, std::size_t n) const {
    if (i >= n || t_[i].kind != Kind::kOpenParen) return 0;
    ++i;
    bool want_item = true;
    for (; i < n; ++i) {
      Kind k = t_[i].kind;
      if (want_item) {
        if (IsUnarySign(i, n))
          ++i;
        else if (!(k == Kind::kString || k == Kind::kNumber || k == Kind::kPlaceholder ||
                   IsWord(i, "null") || IsWord(i, "default") || IsWord(i, "true") ||
                   IsWord(i, "false")))
          return 0;
        want_item = false;
      } else if (k == Kind::kComma) {
        want_item = true;
      } else if (k == Kind::kCloseParen) {
        return i + 1;
      } else {
        return 0;
      }
    }
    return 0;
  }
  void Put(std::size_t i, std::string_view text) {
    if (t_[i].space_before && !out_.empty()) out_ += ' ';
    out_ += text;
  }
  // Emits the token(s) at i; returns the next index.
  std::size_t Emit(std::size_t i, std::size_t n) {
    if (!keep_ && (IsWord(i, "in") || IsWord(i, "values"))) {
      std::size_t end = SimpleList(i + 1, n);
      if (end != 0 && IsWord(i, "values")) {
        while (end + 1 < n && t_[end].kind == Kind::kComma) {
          std::size_t next = SimpleList(end + 1, n);
          if (next == 0) break;
          end = next;
        }
        // A tuple we could not collapse after collapsed ones: keep all as is.
        if (end < n && t_[end].kind == Kind::kComma && end + 1 < n &&
            t_[end + 1].kind == Kind::kOpenParen)
          end = 0;
      }
      if (end != 0) {
        Put(i, Text(i));
        out_ += " (...)";
        return end;
      }
    }
    if (keep_) {
      Put(i, Text(i));
      return i + 1;
    }
    if (IsUnarySign(i, n)) {
      Put(i, "?");
      return i + 2;
    }
    Kind k = t_[i].kind;
    Put(i, k == Kind::kString || k == Kind::kNumber ? std::string_view("?") : Text(i));
    return i + 1;
  }

  std::string_view s_;
  std::span<const Token> t_;
  bool keep_;
  std::string out_;
};

// The tokens of `sql`, in a vector reused by the thread's next call (a new
// one grew through four or five allocations per statement).
const std::vector<Token>& Lex(std::string_view sql, SqlDialect dialect) {
  thread_local std::vector<Token> toks;
  toks.clear();
  Lexer(sql, dialect).Run(toks);
  return toks;
}

// Calls fn(tokens) for each statement between top-level `;`s that has any.
template <typename Fn>
void ForEachStatement(const std::vector<Token>& toks, Fn&& fn) {
  std::size_t first = 0;  // first token of the current statement
  for (std::size_t i = 0; i <= toks.size(); ++i) {
    if (i < toks.size() && toks[i].kind != Kind::kSemicolon) continue;
    if (i > first) fn(std::span<const Token>(toks).subspan(first, i - first));
    first = i + 1;
  }
}

}  // namespace

std::string NormalizeSql(std::string_view sql, SqlDialect dialect) {
  return NormalizeSql(sql, dialect, SqlNormalizeOptions{});
}

std::string NormalizeSql(std::string_view sql, SqlDialect dialect,
                         const SqlNormalizeOptions& options) {
  return Normalizer(sql, Lex(sql, dialect), options.keep_literals).Run();
}

std::vector<std::string_view> SplitSqlStatements(std::string_view sql, SqlDialect dialect) {
  std::vector<std::string_view> out;
  ForEachStatement(Lex(sql, dialect), [&](std::span<const Token> t) {
    out.push_back(sql.substr(t.front().begin, t.back().end - t.front().begin));
  });
  return out;
}

std::vector<std::string> NormalizeSqlStatements(std::string_view sql, SqlDialect dialect,
                                                const SqlNormalizeOptions& options,
                                                std::size_t max_statements) {
  std::vector<std::string> out;
  ForEachStatement(Lex(sql, dialect), [&](std::span<const Token> t) {
    if (out.size() < max_statements) out.push_back(Normalizer(sql, t, options.keep_literals).Run());
  });
  return out;
}

}  // namespace waitscope::protocols
