// Checks of the paths a configuration names, run when it is read (so that
// `agent --check` finds what would otherwise fail later):
// - TLS files, from the file or OTEL_EXPORTER_OTLP_*CERTIFICATE and
//   *_CLIENT_KEY: curl reads them at every request, and one it cannot use
//   fails each export as if the endpoint were down, retried forever;
// - directories the agent creates (spool, report files): one that cannot be
//   a directory stops the agent at start.
#pragma once

#include <string>

namespace waitscope::config {

// What makes `path` unusable as a PEM file, or "" when nothing does: it
// cannot be opened, is no regular file, or has no PEM block ("-----BEGIN ")
// in its first MiB.
std::string PemFileProblem(const std::string& path);

// What keeps `path` from being a directory the agent can create or use, or
// "": it exists and is no directory, or its nearest existing ancestor is no
// directory, is on a read-only filesystem, or is in /proc or /sys.
std::string DirectoryProblem(const std::string& path);

}  // namespace waitscope::config
