// FindMappedFile: chooses a path through which this process (the agent) can
// read the file behind another process's mapping. A path in /proc/PID/maps is
// relative to that process's mount namespace, so inside a container the same
// path on the host may be missing or, worse, a different file.
// Contract: candidates are the plain path, /proc/PID/root/<path> and
// /proc/PID/map_files/<start>-<end> (which also reaches deleted files, given
// enough privilege). The first whose inode equals the mapping's is returned;
// failing that (overlay filesystems report other inodes), the first that
// exists, except for deleted files where only an inode match is trusted.
// Returns nullopt for anonymous and pseudo mappings or when nothing is readable.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "symbols/proc_maps.h"

namespace waitscope {

std::optional<std::string> FindMappedFile(uint32_t pid, const Mapping& mapping);

}  // namespace waitscope
