// Routes libbpf's own messages (verifier logs, CO-RE notes) to spdlog's debug
// level, so a person sees them with -v and never otherwise.
#pragma once

namespace waitscope {

void InstallLibbpfLogger();

}  // namespace waitscope
