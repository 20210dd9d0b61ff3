// ReadWholeFile: reads a file completely into memory. Used for the small text
// files the symbolizer consumes (/proc/PID/maps, /tmp/perf-PID.map); /proc files
// report size 0, so this reads until EOF instead of trusting stat().
// Contract: on failure the Error names the path and strerror(errno); the errno
// itself is returned through `errno_out` (when non-null) so callers can tell
// "file is gone" (ENOENT/ESRCH) from other failures.
#pragma once

#include <cstddef>
#include <string>

#include "core/result.h"

namespace waitscope {

Result<std::string> ReadWholeFile(const std::string& path, int* errno_out = nullptr);

// Reads the open `fd` to its end, failing once more than `max_bytes` arrive
// (a file that grows while it is read, or /dev/zero behind a symlink).
// `path` only names the file in errors.
Result<std::string> ReadOpenFile(int fd, const std::string& path, std::size_t max_bytes,
                                 int* errno_out = nullptr);

}  // namespace waitscope
