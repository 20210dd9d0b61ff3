// Usable PEM files for the config tests: the TLS settings must name one
// (config/path_checks.h), so paths that exist nowhere no longer pass.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace waitscope::config {

// A file holding one PEM block, created on first use in a directory removed
// when the tests end.
inline std::string Pem(const std::string& name) {
  struct TempDir {
    std::string path;
    ~TempDir() { std::filesystem::remove_all(path); }
  };
  static const TempDir dir = [] {
    char templ[] = "/tmp/ws-config-pem-XXXXXX";
    return TempDir{mkdtemp(templ) ? templ : "/nonexistent"};
  }();
  const std::string path = dir.path + "/" + name;
  std::ofstream(path) << "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
  return path;
}

}  // namespace waitscope::config
