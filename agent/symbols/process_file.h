// FindMappedFile: chooses a path through which this process (the agent) can
// read the file behind another process's mapping. A path in /proc/PID/maps is
// relative to that process's mount namespace, so inside a container the same
// path on the host may be missing or, worse, a different file.
// Contract: candidates are /proc/PID/root/<path>, the plain path and
// /proc/PID/map_files/<start>-<end> (the mapped file itself, deleted or not,
// given CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE). The first whose inode
// equals the mapping's is returned. Failing that (an overlay filesystem can
// report another inode), only /proc/PID/root/<path> is taken, and not for a
// deleted file: it is at least the process's own view of that path. The plain
// path with another inode is never taken: it is another file (the process's
// is in another mount namespace, or was replaced since it was mapped), whose
// symbols would name the process's frames wrongly, and a file the traced
// process's user could point the root agent at.
// Returns nullopt for anonymous and pseudo mappings or when nothing is readable.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "symbols/proc_maps.h"

namespace waitscope {

std::optional<std::string> FindMappedFile(uint32_t pid, const Mapping& mapping);

}  // namespace waitscope
