#include "export/gzip.h"

#include <zlib.h>

#include <limits>

namespace waitscope {

Result<std::string> GzipCompress(std::string_view bytes) {
  if (bytes.size() > std::numeric_limits<uInt>::max()) {
    return Error{"gzip: input of " + std::to_string(bytes.size()) + " bytes is too large"};
  }
  z_stream zs{};
  // windowBits 15 + 16 selects the gzip wrapper; zlib then writes a header with
  // mtime 0 and no name, which is what keeps the output reproducible.
  if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
      Z_OK) {
    return Error{"gzip: deflateInit2 failed"};
  }
  const uLong bound = deflateBound(&zs, static_cast<uLong>(bytes.size()));
  if (bound > std::numeric_limits<uInt>::max()) {
    deflateEnd(&zs);
    return Error{"gzip: input of " + std::to_string(bytes.size()) + " bytes is too large"};
  }
  std::string out(bound, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  zs.avail_in = static_cast<uInt>(bytes.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  // deflateBound guarantees one Z_FINISH call fits; anything else is a bug in
  // zlib or memory exhaustion.
  const int rc = deflate(&zs, Z_FINISH);
  const uLong written = zs.total_out;
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) return Error{"gzip: deflate failed (" + std::to_string(rc) + ")"};
  out.resize(written);
  return out;
}

}  // namespace waitscope
