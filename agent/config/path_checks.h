// TLS files named by the config file or by OTEL_EXPORTER_OTLP_*CERTIFICATE
// and *_CLIENT_KEY. curl reads them at every request, and one it cannot use
// fails each export as if the endpoint were down, retried forever. So they
// are checked when the configuration is read.
#pragma once

#include <string>

namespace waitscope::config {

// What makes `path` unusable as a PEM file, or "" when nothing does: it
// cannot be opened, is no regular file, or has no PEM block ("-----BEGIN ")
// in its first MiB.
std::string PemFileProblem(const std::string& path);

}  // namespace waitscope::config
