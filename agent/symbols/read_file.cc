#include "symbols/read_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "symbols/unique_fd.h"

namespace waitscope {

namespace {

Error ErrnoError(const char* what, const std::string& path, int err, int* errno_out) {
  if (errno_out != nullptr) *errno_out = err;
  return Error{std::string(what) + " " + path + ": " + std::strerror(err)};
}

}  // namespace

Result<std::string> ReadWholeFile(const std::string& path, int* errno_out) {
  if (errno_out != nullptr) *errno_out = 0;
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return ErrnoError("cannot open", path, errno, errno_out);
  return ReadOpenFile(fd.get(), path, std::string().max_size(), errno_out);
}

Result<std::string> ReadOpenFile(int fd, const std::string& path, std::size_t max_bytes,
                                 int* errno_out) {
  if (errno_out != nullptr) *errno_out = 0;
  std::string data;
  char buf[64 * 1024];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("cannot read", path, errno, errno_out);
    }
    if (n == 0) break;
    if (static_cast<std::size_t>(n) > max_bytes - data.size()) {
      return Error{path + ": larger than " + std::to_string(max_bytes) + " bytes"};
    }
    data.append(buf, static_cast<size_t>(n));
  }
  return data;
}

}  // namespace waitscope
