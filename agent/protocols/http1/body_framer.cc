#include "protocols/http1/body_framer.h"

#include <algorithm>

#include "protocols/http1/types.h"

namespace waitscope::protocols::http1 {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// chunk-size [ chunk-ext ]: the size is 1*HEXDIG; extensions after ';' (and
// the BWS some senders put before it) are skipped unread.
bool ParseChunkSize(std::string_view line, std::uint64_t* size) {
  std::uint64_t n = 0;
  std::size_t i = 0;
  for (; i < line.size(); ++i) {
    int v = HexValue(line[i]);
    if (v < 0) break;
    if (i >= 15) return false;  // > 2^60 bytes: hostile, and would overflow
    n = (n << 4) | static_cast<std::uint64_t>(v);
  }
  if (i == 0) return false;
  std::string_view rest = line.substr(i);
  while (!rest.empty() && (rest.front() == ' ' || rest.front() == '\t')) rest.remove_prefix(1);
  if (!rest.empty() && rest.front() != ';') return false;
  *size = n;
  return true;
}

}  // namespace

void BodyFramer::StartLength(std::uint64_t n) {
  remaining_ = n;
  state_ = n == 0 ? State::kDone : State::kLength;
}

BodyFramer::Step BodyFramer::Feed(std::string_view data) {
  Step step;
  while (true) {
    std::string_view rest = data.substr(step.consumed);
    switch (state_) {
      case State::kDone:
        step.status = Status::kDone;
        return step;
      case State::kError:
        step.status = Status::kError;
        return step;
      case State::kUntilClose:
        step.consumed = data.size();
        return step;
      case State::kLength:
      case State::kChunkData: {
        std::size_t take =
            static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, rest.size()));
        step.consumed += take;
        remaining_ -= take;
        if (remaining_ > 0) return step;
        state_ = state_ == State::kLength ? State::kDone : State::kChunkDataEnd;
        break;
      }
      case State::kChunkDataEnd:
        // CRLF after chunk data (a bare LF is tolerated like everywhere else).
        if (rest.empty()) return step;
        if (rest[0] == '\n') {
          step.consumed += 1;
        } else if (rest[0] == '\r') {
          if (rest.size() < 2) return step;
          if (rest[1] != '\n') {
            state_ = State::kError;
            break;
          }
          step.consumed += 2;
        } else {
          state_ = State::kError;
          break;
        }
        state_ = State::kChunkSize;
        break;
      case State::kChunkSize: {
        std::size_t nl = rest.find('\n');
        if (nl == std::string_view::npos) {
          if (rest.size() <= kMaxChunkLineBytes) return step;
          state_ = State::kError;
          break;
        }
        std::string_view line = rest.substr(0, nl);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        std::uint64_t size = 0;
        if (line.size() > kMaxChunkLineBytes || !ParseChunkSize(line, &size)) {
          state_ = State::kError;
          break;
        }
        step.consumed += nl + 1;
        if (size == 0) {
          state_ = State::kTrailer;
          trailer_bytes_ = 0;
        } else {
          remaining_ = size;
          state_ = State::kChunkData;
        }
        break;
      }
      case State::kTrailer: {
        // trailer-section CRLF: field lines (dropped) up to an empty line.
        std::size_t nl = rest.find('\n');
        std::size_t line_len = nl == std::string_view::npos ? rest.size() : nl + 1;
        if (trailer_bytes_ + line_len > kMaxHeadBytes) {
          state_ = State::kError;
          break;
        }
        if (nl == std::string_view::npos) return step;
        std::string_view line = rest.substr(0, nl);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        step.consumed += nl + 1;
        trailer_bytes_ += nl + 1;
        if (line.empty()) {
          state_ = State::kDone;
        } else if (line.find(':') == std::string_view::npos && line.front() != ' ' &&
                   line.front() != '\t') {
          state_ = State::kError;
        }
        break;
      }
    }
  }
}

bool BodyFramer::SkipGap(std::uint64_t n) {
  switch (state_) {
    case State::kUntilClose:
      return true;
    case State::kLength:
    case State::kChunkData:
      if (n > remaining_) return false;
      // A gap that ends exactly at the end of a Content-Length body leaves
      // the body complete; Feed() notices on the next call.
      remaining_ -= n;
      if (remaining_ == 0) state_ = state_ == State::kLength ? State::kDone : State::kChunkDataEnd;
      return true;
    default:
      return false;
  }
}

}  // namespace waitscope::protocols::http1
