// SslAttacher: finds the copies of OpenSSL that traced processes use and
// attaches the openssl BPF programs to each one (Probe::AttachSsl), so their
// TLS plaintext arrives as WS_EV_SSL_DATA events.
//
// A copy is any file mapped executable that defines SSL_read and SSL_write:
// libssl.so.1.1, libssl.so.3, or an executable linking OpenSSL statically.
// Each file is attached ONCE, keyed by (device, inode), for every process
// (pid -1): a process started later that maps the same file is covered
// without a new attachment, because the programs filter by the traced set.
// Files are opened through /proc/PID/root or /proc/PID/map_files, so copies
// inside containers are found too.
//
// Contract: Scan(pid) may be called any number of times (at exec, when a
// process's first TLS connection shows up, periodically); it costs one read
// of /proc/PID/maps when nothing new is mapped. A file whose attachment
// fails is reported once, by the Scan that tried, and not retried.
// Not thread-safe. Must not outlive the Probe.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <utility>

#include "core/result.h"

namespace waitscope {

class Probe;

class SslAttacher {
 public:
  explicit SslAttacher(Probe& probe) : probe_(probe) {}

  // Attaches to the OpenSSL copies pid maps that are not attached yet.
  // Fails when the process is gone, or when a new copy cannot be attached.
  Status Scan(std::uint32_t pid);
  // Attaches to the file at `path` if it is OpenSSL (no-op otherwise or when
  // already attached): e.g. the host's libssl at start, so that processes
  // that start later have plaintext from their first call.
  Status AttachFile(const std::string& path);

  // True when the last Scan of pid found an attached copy of OpenSSL with
  // both SSL_read and SSL_write: its TLS connections have plaintext.
  bool HasPlaintext(std::uint32_t pid) const;
  // Drops what is known about pid (it exited; the pid may be reused).
  void Forget(std::uint32_t pid) { processes_.erase(pid); }

  // Files attached so far.
  std::size_t attached_files() const { return attached_files_; }

 private:
  using FileId = std::pair<std::uint64_t, std::uint64_t>;  // (st_dev, st_ino)
  enum class FileState { kNotOpenssl, kAttached, kFailed };

  struct ProcessState {
    // (mapping start, inode as listed in maps) -> file id, so a rescan does
    // not stat what it has already seen.
    std::map<std::pair<std::uint64_t, std::uint64_t>, FileId> mappings;
    bool plaintext = false;
  };

  // Examines and, if OpenSSL, attaches a file not seen before. The error, if
  // any, is returned (once) and the file marked failed.
  Status Examine(const FileId& id, const std::string& path);

  Probe& probe_;
  std::map<FileId, FileState> files_;
  std::unordered_map<std::uint32_t, ProcessState> processes_;
  std::size_t attached_files_ = 0;
};

}  // namespace waitscope
