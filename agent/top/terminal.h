// The terminal side of `waitscope top`: raw keyboard input, the alternate
// screen, window size, and drawing a frame with plain ANSI escapes (no
// curses: the screen is a handful of full-line rewrites, and a dependency
// would buy nothing but terminfo lookups every xterm-like terminal answers
// the same way).
//
// Contract:
//  - ScreenSession is RAII: constructing it switches input to raw mode (no
//    echo, no line buffering, Ctrl-Z disabled so the shell never gets a
//    suspended raw terminal back; Ctrl-C still raises SIGINT) and enters the
//    alternate screen; the destructor restores the saved termios and the
//    primary screen on every exit path, including errors. The owner handles
//    SIGINT/SIGTERM/SIGHUP through a signalfd (core/signal_reader.h), so no
//    signal handler has to restore anything.
//  - ComposeFrame is pure: it positions every row explicitly and clears it
//    before writing, so a frame never scrolls and never wraps (lines must
//    already fit the width), and leftovers of a larger frame are erased.
// Not thread-safe; one per process.
#pragma once

#include <termios.h>

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "top/top_view.h"

namespace waitscope::top {

struct TerminalSize {
  std::size_t cols = 80;
  std::size_t rows = 24;
};

// The size of the terminal on `fd` (TIOCGWINSZ), or nullopt when it is not a
// terminal or reports 0x0.
std::optional<TerminalSize> QueryTerminalSize(int fd);

// Escape sequences drawing `lines` on a screen of `size`: every row from 1
// to size.rows is cleared, rows with a line get it, headers styled.
std::string ComposeFrame(const std::vector<ScreenLine>& lines, const TerminalSize& size);

// Writes all of `data`, retrying short writes and EINTR.
Status WriteAll(int fd, std::string_view data);

class ScreenSession {
 public:
  // Raw mode on `input_fd` when it is a terminal (keys are read from it),
  // alternate screen on `output_fd`.
  static Result<std::unique_ptr<ScreenSession>> Enter(int input_fd, int output_fd);
  ~ScreenSession();
  ScreenSession(const ScreenSession&) = delete;
  ScreenSession& operator=(const ScreenSession&) = delete;

  bool reads_keys() const { return raw_; }
  // Bytes typed since the last call; never blocks.
  std::string ReadInput();
  Status Draw(const std::vector<ScreenLine>& lines, const TerminalSize& size);

 private:
  ScreenSession(int input_fd, int output_fd) : input_fd_(input_fd), output_fd_(output_fd) {}

  int input_fd_;
  int output_fd_;
  bool raw_ = false;
  termios saved_{};
};

}  // namespace waitscope::top
