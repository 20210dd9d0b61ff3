#include "top/terminal.h"

#include <poll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "report/display_text.h"

namespace waitscope::top {
namespace {

constexpr std::string_view kEnterScreen = "\x1b[?1049h\x1b[?25l\x1b[H\x1b[2J";
constexpr std::string_view kLeaveScreen = "\x1b[0m\x1b[?25h\x1b[?1049l";
constexpr std::string_view kReset = "\x1b[0m";

std::string_view StyleStart(LineStyle style) {
  switch (style) {
    case LineStyle::kTitle:
      return "\x1b[1m";
    case LineStyle::kSectionHeader:
      return "\x1b[7m";
    case LineStyle::kFocusedHeader:
      return "\x1b[1;7m";
    case LineStyle::kNormal:
      return "";
  }
  return "";
}

}  // namespace

std::optional<TerminalSize> QueryTerminalSize(int fd) {
  winsize ws{};
  if (ioctl(fd, TIOCGWINSZ, &ws) != 0 || ws.ws_col == 0 || ws.ws_row == 0) return std::nullopt;
  return TerminalSize{ws.ws_col, ws.ws_row};
}

std::string ComposeFrame(const std::vector<ScreenLine>& lines, const TerminalSize& size) {
  std::string out;
  for (std::size_t row = 0; row < size.rows; ++row) {
    out += "\x1b[" + std::to_string(row + 1) + ";1H\x1b[2K";
    if (row >= lines.size()) continue;
    const ScreenLine& line = lines[row];
    const std::string_view style = StyleStart(line.style);
    if (style.empty()) {
      out += line.text;
      continue;
    }
    // Section headers are bars across the screen: pad to the width (the
    // cursor is repositioned before the next row, so a full row never wraps).
    out += style;
    out += line.style == LineStyle::kTitle ? line.text : PadRight(line.text, size.cols);
    out += kReset;
  }
  return out;
}

Status WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error{std::string("cannot write to the terminal: ") + std::strerror(errno)};
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return Status::Ok();
}

Result<std::unique_ptr<ScreenSession>> ScreenSession::Enter(int input_fd, int output_fd) {
  std::unique_ptr<ScreenSession> screen(new ScreenSession(input_fd, output_fd));
  if (isatty(input_fd) && tcgetattr(input_fd, &screen->saved_) == 0) {
    termios raw = screen->saved_;
    raw.c_lflag &= ~static_cast<tcflag_t>(ICANON | ECHO | IEXTEN);
    raw.c_iflag &= ~static_cast<tcflag_t>(IXON | ICRNL);
    raw.c_cc[VMIN] = 0;  // reads return at once with what is there
    raw.c_cc[VTIME] = 0;
    raw.c_cc[VSUSP] = _POSIX_VDISABLE;
    if (tcsetattr(input_fd, TCSADRAIN, &raw) != 0) {
      return Error{std::string("cannot set the terminal to raw mode: ") + std::strerror(errno)};
    }
    screen->raw_ = true;
  }
  if (Status s = WriteAll(output_fd, kEnterScreen); !s.ok()) return s.error();
  return screen;
}

ScreenSession::~ScreenSession() {
  // Best effort on the way out: the terminal may be gone (SSH dropped).
  (void)WriteAll(output_fd_, kLeaveScreen);
  if (raw_) tcsetattr(input_fd_, TCSADRAIN, &saved_);
}

std::string ScreenSession::ReadInput() {
  std::string bytes;
  if (!raw_) return bytes;
  for (;;) {
    pollfd p{input_fd_, POLLIN, 0};
    if (poll(&p, 1, 0) <= 0 || !(p.revents & POLLIN)) break;
    char buf[256];
    const ssize_t n = read(input_fd_, buf, sizeof buf);
    if (n <= 0) break;
    bytes.append(buf, static_cast<std::size_t>(n));
  }
  return bytes;
}

Status ScreenSession::Draw(const std::vector<ScreenLine>& lines, const TerminalSize& size) {
  return WriteAll(output_fd_, ComposeFrame(lines, size));
}

}  // namespace waitscope::top
