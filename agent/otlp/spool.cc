#include "otlp/spool.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>
#include <vector>

#include "core/atomic_file.h"

namespace waitscope::otlp {
namespace {

constexpr std::string_view kMagic = "WSQ1\n";
constexpr std::string_view kSuffix = ".wsq";
constexpr std::size_t kSeqDigits = 20;

// "00000000000000000042.wsq" -> 42; anything else -> 0 (sequences start at 1).
std::uint64_t SeqFromName(const std::string& name) {
  if (name.size() != kSeqDigits + kSuffix.size()) return 0;
  if (name.compare(kSeqDigits, kSuffix.size(), kSuffix) != 0) return 0;
  std::uint64_t seq = 0;
  for (std::size_t i = 0; i < kSeqDigits; ++i) {
    if (name[i] < '0' || name[i] > '9') return 0;
    seq = seq * 10 + static_cast<std::uint64_t>(name[i] - '0');
  }
  return seq;
}

Result<std::string> ReadWhole(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{"cannot read spool entry " + path + ": " + std::strerror(errno)};
  std::ostringstream out;
  out << in.rdbuf();
  if (in.bad()) return Error{"cannot read spool entry " + path};
  return out.str();
}

}  // namespace

std::string SerializeSpoolEntry(std::string_view route, std::string_view encoding,
                                std::string_view body) {
  std::string out;
  out.reserve(kMagic.size() + encoding.size() + route.size() + 2 + body.size());
  out.append(kMagic);
  out.append(encoding);
  out.push_back('\n');
  out.append(route);
  out.push_back('\n');
  out.append(body);
  return out;
}

Result<SpoolEntry> ParseSpoolEntry(std::string_view data) {
  if (data.substr(0, kMagic.size()) != kMagic) return Error{"spool entry has no WSQ1 header"};
  data.remove_prefix(kMagic.size());
  const auto enc_end = data.find('\n');
  if (enc_end == std::string_view::npos) return Error{"spool entry header is cut short"};
  const auto route_end = data.find('\n', enc_end + 1);
  if (route_end == std::string_view::npos) return Error{"spool entry header is cut short"};
  SpoolEntry entry;
  entry.encoding = std::string(data.substr(0, enc_end));
  entry.route = std::string(data.substr(enc_end + 1, route_end - enc_end - 1));
  entry.body = std::string(data.substr(route_end + 1));
  return entry;
}

Result<Spool> Spool::Open(const SpoolOptions& options) {
  Spool spool(options);
  if (!spool.in_memory()) {
    std::error_code ec;
    std::filesystem::create_directories(options.dir, ec);
    if (ec) return Error{"cannot create spool directory " + options.dir + ": " + ec.message()};
    if (Status s = spool.Load(); !s) return s.error();
  }
  return spool;
}

std::string Spool::PathOf(std::uint64_t seq) const {
  char name[kSeqDigits + 1];
  std::snprintf(name, sizeof(name), "%020llu", static_cast<unsigned long long>(seq));
  return options_.dir + "/" + name + std::string(kSuffix);
}

Status Spool::Load() {
  std::error_code ec;
  std::vector<Slot> found;
  for (const auto& item : std::filesystem::directory_iterator(options_.dir, ec)) {
    const std::string name = item.path().filename().string();
    // A crash between mkostemp and rename leaves "<entry>.tmp.XXXXXX" behind.
    if (name.find(std::string(kSuffix) + ".tmp.") != std::string::npos) {
      std::filesystem::remove(item.path(), ec);
      continue;
    }
    const std::uint64_t seq = SeqFromName(name);
    if (seq == 0 || !item.is_regular_file(ec)) continue;
    const std::uint64_t size = item.file_size(ec);
    if (ec) continue;
    found.push_back(Slot{seq, size, {}});
  }
  if (ec) return Error{"cannot list spool directory " + options_.dir + ": " + ec.message()};
  std::sort(found.begin(), found.end(), [](const Slot& a, const Slot& b) { return a.seq < b.seq; });
  for (Slot& slot : found) {
    bytes_ += slot.size;
    next_seq_ = slot.seq + 1;
    entries_.push_back(std::move(slot));
  }
  Trim();
  return Status::Ok();
}

Result<std::uint64_t> Spool::Push(std::string_view route, std::string_view encoding,
                                  std::string_view body) {
  const std::uint64_t dropped_before = dropped_;
  std::string data = SerializeSpoolEntry(route, encoding, body);
  if (data.size() > options_.max_bytes && !none()) {
    ++dropped_;
    return dropped_ - dropped_before;
  }
  Slot slot{next_seq_, data.size(), {}};
  if (in_memory()) {
    slot.data = std::move(data);
  } else if (Status s = WriteFileAtomically(PathOf(slot.seq), data); !s) {
    return s.error();
  }
  ++next_seq_;
  bytes_ += slot.size;
  entries_.push_back(std::move(slot));
  Trim();
  return dropped_ - dropped_before;
}

void Spool::Trim() {
  while (none() ? entries_.size() > 1 : bytes_ > options_.max_bytes && !entries_.empty()) {
    PopFront();
    ++dropped_;
  }
}

Result<SpoolEntry> Spool::Front() const {
  if (entries_.empty()) return Error{"spool is empty"};
  const Slot& slot = entries_.front();
  Result<SpoolEntry> entry = Error{""};
  if (in_memory()) {
    entry = ParseSpoolEntry(slot.data);
  } else {
    Result<std::string> data = ReadWhole(PathOf(slot.seq));
    if (!data) return data.error();
    entry = ParseSpoolEntry(*data);
    if (!entry) return Error{PathOf(slot.seq) + ": " + entry.error().message};
  }
  if (entry) entry->seq = slot.seq;
  return entry;
}

void Spool::PopFront() {
  if (entries_.empty()) return;
  const Slot& slot = entries_.front();
  if (!in_memory()) unlink(PathOf(slot.seq).c_str());
  bytes_ -= std::min(bytes_, slot.size);
  entries_.pop_front();
}

}  // namespace waitscope::otlp
