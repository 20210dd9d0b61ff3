#include "loader/ssl_attacher.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <cstdio>
#include <optional>

#include "loader/probe.h"
#include "loader/ssl_symbols.h"
#include "symbols/proc_maps.h"
#include "symbols/process_file.h"

namespace waitscope {
namespace {

std::optional<std::pair<std::uint64_t, std::uint64_t>> StatId(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  return std::pair<std::uint64_t, std::uint64_t>{st.st_dev, st.st_ino};
}

bool Attachable(const Mapping& m) {
  return m.executable && m.inode != 0 && !m.path.empty() && m.path.front() == '/';
}

void Append(std::string& errors, const std::string& message) {
  errors += (errors.empty() ? "" : "; ") + message;
}

}  // namespace

Status SslAttacher::Examine(const FileId& id, const std::string& path) {
  Result<std::vector<SslFunctionOffset>> found = FindSslFunctions(path);
  if (!found.ok()) {
    // Not readable as ELF: nothing we can attach to, and not worth a retry.
    spdlog::debug("OpenSSL scan: skipping {}: {}", path, found.error().message);
    files_[id] = FileState::kNotOpenssl;
    return Status::Ok();
  }
  if (found->empty()) {
    files_[id] = FileState::kNotOpenssl;
    return Status::Ok();
  }
  if (Status s = probe_.AttachSsl(path, *found); !s.ok()) {
    files_[id] = FileState::kFailed;
    return s;
  }
  files_[id] = FileState::kAttached;
  ++attached_files_;
  spdlog::debug("OpenSSL probes attached to {} ({} functions)", path, found->size());
  return Status::Ok();
}

Status SslAttacher::Scan(std::uint32_t pid) {
  Result<ProcessMaps> maps = ProcessMaps::Read(pid);
  if (!maps.ok()) return maps.error();
  ProcessState& proc = processes_[pid];
  std::string errors;
  bool plaintext = false;
  for (const Mapping& m : maps->mappings()) {
    if (!Attachable(m)) continue;
    const std::pair<std::uint64_t, std::uint64_t> mkey{m.start, m.inode};
    auto seen = proc.mappings.find(mkey);
    if (seen == proc.mappings.end()) {
      // The file as this process sees it: map_files names the mapped file
      // itself (even if replaced on disk since); the path is the fallback
      // without CAP_SYS_ADMIN.
      char range[64];
      std::snprintf(range, sizeof(range), "/proc/%u/map_files/%llx-%llx", pid,
                    static_cast<unsigned long long>(m.start),
                    static_cast<unsigned long long>(m.end));
      std::optional<std::string> path = FindMappedFile(pid, m);
      std::optional<FileId> id = StatId(range);
      if (!id && path) id = StatId(*path);
      if (!id) continue;  // unmapped meanwhile, or unreadable: try again next scan
      if (!files_.contains(*id)) {
        // The uprobe must be attached through a path the kernel resolves to
        // the same inode: prefer the process's own view.
        const std::string& attach_path = path ? *path : std::string(range);
        if (Status s = Examine(*id, attach_path); !s.ok()) Append(errors, s.error().message);
      }
      seen = proc.mappings.emplace(mkey, *id).first;
    }
    auto file = files_.find(seen->second);
    if (file != files_.end() && file->second == FileState::kAttached) plaintext = true;
  }
  proc.plaintext = plaintext;
  if (!errors.empty()) return Error{errors};
  return Status::Ok();
}

Status SslAttacher::AttachFile(const std::string& path) {
  std::optional<FileId> id = StatId(path);
  if (!id) return Error{"cannot stat " + path};
  if (files_.contains(*id)) return Status::Ok();
  return Examine(*id, path);
}

bool SslAttacher::HasPlaintext(std::uint32_t pid) const {
  auto it = processes_.find(pid);
  return it != processes_.end() && it->second.plaintext;
}

}  // namespace waitscope
