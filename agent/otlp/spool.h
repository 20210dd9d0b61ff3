// Spool: the bounded FIFO of request bodies waiting to be delivered. With a
// directory, each entry is one file `<20-digit sequence>.wsq`, written
// atomically (core/atomic_file.h), so a crash leaves either the whole entry or
// none, and a restarted agent reloads the entries in their original order.
// Bodies are stored already encoded, so the data points inside keep the
// timestamps they were taken with however late they are delivered.
//
// Contract:
//  - the total size of the entries (files, header included) never exceeds
//    max_bytes after Push returns: the OLDEST entries are removed to make room
//    and counted in dropped(); an entry larger than max_bytes on its own is
//    dropped on arrival (also counted);
//  - at Open, leftover temporaries of an interrupted write are deleted, other
//    foreign files are left alone, and an over-full directory (a smaller bound
//    than last run) is trimmed oldest first, counted;
//  - without a directory the same queue lives in memory only;
//  - max_bytes 0 is "no spool": nothing touches the directory, and only the
//    newest entry (the one being sent) is kept, in memory; Push drops the one
//    before it, counted. The Sender then sends each entry once (none()).
// Not thread-safe: the Sender's worker thread is its only user.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>

#include "core/result.h"
#include "otlp/options.h"

namespace waitscope::otlp {

struct SpoolEntry {
  std::uint64_t seq = 0;
  std::string route;     // what the sender resolves to a URL ("metrics", an ingest query)
  std::string encoding;  // Content-Encoding of body: "" or "gzip"
  std::string body;
};

class Spool {
 public:
  static Result<Spool> Open(const SpoolOptions& options);

  // Appends an entry, then drops the oldest ones until the bound holds.
  // Returns how many entries were dropped (the new one included if too large).
  // An Error means the entry could not be written; nothing was dropped then.
  Result<std::uint64_t> Push(std::string_view route, std::string_view encoding,
                             std::string_view body);

  // The oldest entry. An Error (file vanished or corrupt) means the caller
  // should PopFront() it, counting it lost.
  Result<SpoolEntry> Front() const;
  void PopFront();

  bool empty() const { return entries_.empty(); }
  std::size_t size() const { return entries_.size(); }
  std::uint64_t bytes() const { return bytes_; }
  std::uint64_t dropped() const { return dropped_; }  // by the bound, since Open
  const std::string& dir() const { return options_.dir; }
  bool none() const { return options_.max_bytes == 0; }  // "no spool"

 private:
  struct Slot {
    std::uint64_t seq = 0;
    std::uint64_t size = 0;
    std::string data;  // memory-only mode: the serialized entry
  };

  explicit Spool(SpoolOptions options) : options_(std::move(options)) {}
  bool in_memory() const { return options_.dir.empty() || none(); }
  std::string PathOf(std::uint64_t seq) const;
  Status Load();
  void Trim();

  SpoolOptions options_;
  std::deque<Slot> entries_;
  std::uint64_t next_seq_ = 1;
  std::uint64_t bytes_ = 0;
  std::uint64_t dropped_ = 0;
};

// The on-disk form of an entry (exposed for tests): "WSQ1\n" encoding "\n"
// route "\n" body. Route and encoding never contain a newline.
std::string SerializeSpoolEntry(std::string_view route, std::string_view encoding,
                                std::string_view body);
Result<SpoolEntry> ParseSpoolEntry(std::string_view data);

}  // namespace waitscope::otlp
