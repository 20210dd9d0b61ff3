#include "config/path_checks.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string_view>

#include "symbols/unique_fd.h"

namespace waitscope::config {

std::string PemFileProblem(const std::string& path) {
  // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer.
  const UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  if (!fd.valid()) return "cannot read '" + path + "': " + std::strerror(errno);
  std::string problem;
  struct stat st {};
  if (fstat(fd.get(), &st) != 0) {
    problem = "cannot read '" + path + "': " + std::strerror(errno);
  } else if (!S_ISREG(st.st_mode)) {
    problem = "'" + path + "' is not a regular file";
  } else {
    constexpr std::size_t kLimit = 1 << 20;
    constexpr std::string_view kBegin = "-----BEGIN ";
    std::string head(kLimit, '\0');
    std::size_t got = 0;
    while (got < kLimit) {
      const ssize_t n = read(fd.get(), head.data() + got, kLimit - got);
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
  return problem;
}

std::string DirectoryProblem(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) == 0) {
    return S_ISDIR(st.st_mode) ? std::string() : "'" + path + "' exists and is not a directory";
  }
  // Missing: the agent creates it under its nearest existing ancestor.
  std::filesystem::path ancestor = std::filesystem::absolute(path).parent_path();
  while (stat(ancestor.c_str(), &st) != 0 && ancestor.has_relative_path()) {
    ancestor = ancestor.parent_path();
  }
  if (!S_ISDIR(st.st_mode)) {
    return "cannot create '" + path + "': '" + ancestor.string() + "' is not a directory";
  }
  struct statfs fs {};
  if (statfs(ancestor.c_str(), &fs) == 0 &&
      (fs.f_type == PROC_SUPER_MAGIC || fs.f_type == SYSFS_MAGIC)) {
    return "cannot create '" + path + "' in the kernel's " +
           (fs.f_type == PROC_SUPER_MAGIC ? "/proc" : "/sys");
  }
  struct statvfs vfs {};
  if (statvfs(ancestor.c_str(), &vfs) == 0 && (vfs.f_flag & ST_RDONLY) != 0) {
    return "cannot create '" + path + "': '" + ancestor.string() + "' is on a read-only filesystem";
  }
  return {};
}

}  // namespace waitscope::config
