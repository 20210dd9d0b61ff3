#include "core/atomic_file.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace waitscope {
namespace {

Error Failure(const std::string& path, const char* step, int err) {
  return Error{"cannot write " + path + ": " + step + ": " + std::strerror(err)};
}

}  // namespace

Status WriteFileAtomically(const std::string& path, std::string_view contents) {
  if (path.empty()) return Error{"cannot write report: empty output path"};
  // Same directory as the target, so rename() stays within one filesystem.
  std::string templ = path + ".tmp.XXXXXX";
  std::vector<char> name(templ.begin(), templ.end());
  name.push_back('\0');
  const int fd = mkostemp(name.data(), O_CLOEXEC);
  if (fd < 0) return Failure(path, "create temporary file", errno);
  const std::string tmp(name.data());

  auto fail = [&](const char* step) {
    const int err = errno;
    close(fd);
    unlink(tmp.c_str());
    return Status(Failure(path, step, err));
  };

  // mkstemp creates 0600; reports are meant to be read by other users' tools.
  if (fchmod(fd, 0644) != 0) return fail("chmod");
  std::size_t done = 0;
  while (done < contents.size()) {
    const ssize_t n = write(fd, contents.data() + done, contents.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail("write");
    }
    done += static_cast<std::size_t>(n);
  }
  // Without fsync a crash after rename could leave an empty file at `path`.
  if (fsync(fd) != 0) return fail("fsync");
  if (close(fd) != 0) {
    const int err = errno;
    unlink(tmp.c_str());
    return Failure(path, "close", err);
  }
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    unlink(tmp.c_str());
    return Failure(path, "rename", err);
  }
  return Status::Ok();
}

}  // namespace waitscope
