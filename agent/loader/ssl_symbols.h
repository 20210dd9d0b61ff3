// FindSslFunctions: where, in one ELF file, the OpenSSL functions the
// openssl BPF family hooks start — as file offsets, which is what a uprobe
// takes. Works for libssl.so.* (.dynsym) and for executables that link
// OpenSSL statically (.symtab, or .dynsym when exported).
// Contract: a file is OpenSSL when it defines SSL_write and SSL_read (an
// undefined reference, as in libcurl or Python's _ssl module, does not
// count); other files give an empty list, not an error. Functions the
// version lacks (SSL_read_ex before 1.1.1) are simply absent. On x86-64,
// where SSL_read and SSL_read_ex (SSL_write and SSL_write_ex) both call one
// internal worker that can be probed without single-stepping, the list has
// kReadWorker (kWriteWorker) instead of the pair (loader/ssl_workers.h).
// Errors only for a file that cannot be read as ELF.
#pragma once

#include <string>
#include <vector>

#include "core/result.h"
#include "loader/probe.h"

namespace waitscope {

Result<std::vector<SslFunctionOffset>> FindSslFunctions(const std::string& path);

}  // namespace waitscope
