#include "config/pem_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string_view>

namespace waitscope::config {

std::string PemFileProblem(const std::string& path) {
  // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer.
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return "cannot read '" + path + "': " + std::strerror(errno);
  std::string problem;
  struct stat st {};
  if (fstat(fd, &st) != 0) {
    problem = "cannot read '" + path + "': " + std::strerror(errno);
  } else if (!S_ISREG(st.st_mode)) {
    problem = "'" + path + "' is not a regular file";
  } else {
    constexpr std::size_t kLimit = 1 << 20;
    constexpr std::string_view kBegin = "-----BEGIN ";
    std::string head(kLimit, '\0');
    std::size_t got = 0;
    while (got < kLimit) {
      const ssize_t n = read(fd, head.data() + got, kLimit - got);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        problem = "cannot read '" + path + "': " + std::strerror(errno);
        break;
      }
      if (n == 0) break;
      got += static_cast<std::size_t>(n);
    }
    head.resize(got);
    if (problem.empty() && head.find(kBegin) == std::string::npos) {
      problem = "'" + path + "' is not a PEM file (no -----BEGIN line)";
    }
  }
  close(fd);
  return problem;
}

}  // namespace waitscope::config
