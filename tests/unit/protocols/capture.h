// Test helpers for protocol parsers: load a recorded connection
// (tools/capture/tcp_capture_proxy.py's .capture JSONL) and replay it into a
// ConnectionParser whole, split at every byte boundary, or byte by byte.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <fstream>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "protocols/common/connection_parser.h"

namespace waitscope::protocols::testing {

struct Chunk {
  Direction dir;
  std::uint64_t ts_ns;
  std::string data;
};

inline std::string Base64Decode(const std::string& in) {
  static const std::string kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  int val = 0, bits = -8;
  for (char c : in) {
    if (c == '=') break;
    std::size_t pos = kAlphabet.find(c);
    if (pos == std::string::npos) continue;
    val = (val << 6) + static_cast<int>(pos);
    bits += 6;
    if (bits >= 0) {
      out.push_back(static_cast<char>((val >> bits) & 0xff));
      bits -= 8;
    }
  }
  return out;
}

// Throws std::runtime_error on a missing or malformed file (a test bug).
inline std::vector<Chunk> LoadCapture(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open capture " + path);
  std::vector<Chunk> chunks;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    auto j = nlohmann::json::parse(line);
    chunks.push_back(Chunk{j.at("dir") == "request" ? Direction::kRequest : Direction::kResponse,
                           j.at("ts_ns").get<std::uint64_t>(),
                           Base64Decode(j.at("data_b64").get<std::string>())});
  }
  return chunks;
}

// Feeds every chunk, each cut into pieces of at most `piece` bytes (0: whole).
inline void Replay(ConnectionParser& parser, const std::vector<Chunk>& chunks,
                   std::size_t piece = 0) {
  for (const Chunk& c : chunks) {
    if (piece == 0) {
      parser.OnData(c.dir, c.data, c.ts_ns);
      continue;
    }
    for (std::size_t off = 0; off < c.data.size(); off += piece) {
      parser.OnData(c.dir, std::string_view(c.data).substr(off, piece), c.ts_ns);
    }
  }
}

// Replays the capture with chunk `chunk_index` delivered in two pieces, cut
// at byte `cut`. Looping over every (chunk, cut) checks that no message
// boundary position can confuse the parser.
inline void ReplaySplitAt(ConnectionParser& parser, const std::vector<Chunk>& chunks,
                          std::size_t chunk_index, std::size_t cut) {
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    const Chunk& c = chunks[i];
    if (i == chunk_index && cut > 0 && cut < c.data.size()) {
      parser.OnData(c.dir, std::string_view(c.data).substr(0, cut), c.ts_ns);
      parser.OnData(c.dir, std::string_view(c.data).substr(cut), c.ts_ns);
    } else {
      parser.OnData(c.dir, c.data, c.ts_ns);
    }
  }
}

// Replays the capture as the agent sees it with --capture-bytes K: every
// chunk (syscall) longer than `k` bytes is delivered as its first `k` bytes
// followed by OnGap(rest).
inline void ReplayCapped(ConnectionParser& parser, const std::vector<Chunk>& chunks,
                         std::size_t k) {
  for (const Chunk& c : chunks) {
    if (c.data.size() <= k) {
      parser.OnData(c.dir, c.data, c.ts_ns);
      continue;
    }
    parser.OnData(c.dir, std::string_view(c.data).substr(0, k), c.ts_ns);
    parser.OnGap(c.dir, c.data.size() - k);
  }
}

// Replays the capture with `lost` bytes of chunk `chunk_index` missing from
// offset `cut`: the bytes before, OnGap(lost), the bytes after. This is what
// the kernel's per-syscall capture limit or a dropped event looks like.
inline void ReplayWithGapInChunk(ConnectionParser& parser, const std::vector<Chunk>& chunks,
                                 std::size_t chunk_index, std::size_t cut, std::size_t lost) {
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    std::string_view d(chunks[i].data);
    if (i != chunk_index) {
      parser.OnData(chunks[i].dir, d, chunks[i].ts_ns);
      continue;
    }
    parser.OnData(chunks[i].dir, d.substr(0, cut), chunks[i].ts_ns);
    parser.OnGap(chunks[i].dir, lost);
    if (cut + lost < d.size()) parser.OnData(chunks[i].dir, d.substr(cut + lost), chunks[i].ts_ns);
  }
}

}  // namespace waitscope::protocols::testing
