#include "protocols/tls/record_stream.h"

#include <algorithm>

namespace waitscope::protocols::tls {
namespace {

Verdict Check(RecordStream::Seek mode, std::string_view at) {
  switch (mode) {
    case RecordStream::Seek::kClientHello:
      return ClientHelloStart(at);
    case RecordStream::Seek::kServerStart:
      return ServerStart(at);
    case RecordStream::Seek::kAnyRecord:
      break;
  }
  return AnyRecordStart(at);
}

}  // namespace

void RecordStream::StartSeek(Seek mode) {
  seek_ = mode;
  seeking_ = true;
  skipped_ = 0;
  body_left_ = 0;
  header_ts_fixed_ = false;
}

std::string_view RecordStream::SeekIn(std::string_view in, std::uint64_t ts, std::string& joined) {
  const std::size_t held = hold_.size();
  if (!hold_.empty()) {
    joined = hold_ + std::string(in);  // `in` may view `joined`: copy first
    hold_.clear();
    in = joined;
  }
  std::size_t i = 0;
  for (; i < in.size(); ++i) {
    const Verdict v = Check(seek_, in.substr(i));
    if (v == Verdict::kYes) {
      skipped_ = 0;
      seeking_ = false;
      // The header's first byte may be one held from an earlier chunk.
      header_ts_ = i < held ? hold_ts_ : ts;
      header_ts_fixed_ = true;
      if (seek_ == Seek::kAnyRecord) ++stats_->resyncs;
      return in.substr(i);
    }
    if (v == Verdict::kNeedMore) break;
  }
  skipped_ += i;
  // A kNeedMore verdict comes only from the last few bytes: keep them.
  hold_ = std::string(in.substr(i));
  if (i >= held) hold_ts_ = ts;
  if (skipped_ > kMaxSeekBytes) {
    gave_up_ = true;
    hold_.clear();
    ++stats_->parse_errors;
  }
  return {};
}

void RecordStream::Feed(std::string_view in, std::uint64_t ts, RecordSink& sink) {
  last_ts_ = ts;
  std::string joined;  // owns the bytes `in` views when lookahead was joined
  while (!in.empty() && !gave_up_ && !stopped_) {
    if (seeking_) {
      in = SeekIn(in, ts, joined);
      continue;
    }
    if (body_left_ == 0) {
      if (hold_.empty() && !header_ts_fixed_) header_ts_ = ts;
      const std::size_t take = std::min(kRecordHeaderBytes - hold_.size(), in.size());
      hold_.append(in.substr(0, take));
      in.remove_prefix(take);
      if (hold_.size() < kRecordHeaderBytes) return;
      const RecordHeader h = ReadRecordHeader(hold_);
      if (!PlausibleRecordHeader(h)) {
        ++stats_->parse_errors;
        hold_.erase(0, 1);  // a record may start inside the bad header
        hold_ts_ = header_ts_;
        header_ts_fixed_ = false;
        StartSeek(Seek::kAnyRecord);
        if (!sink.OnFramingLost()) stopped_ = true;
        continue;
      }
      hold_.clear();
      header_ts_fixed_ = false;
      body_left_ = h.length;
      if (!sink.OnRecordStart(h, header_ts_)) stopped_ = true;
      continue;
    }
    const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(body_left_, in.size()));
    body_left_ -= n;
    bool go = sink.OnRecordBody(in.substr(0, n), ts);
    in.remove_prefix(n);
    if (go && body_left_ == 0) go = sink.OnRecordEnd(ts);
    if (!go) stopped_ = true;
  }
}

bool RecordStream::Gap(std::uint64_t n, std::uint64_t skippable, RecordSink& sink) {
  if (gave_up_ || stopped_ || n == 0) return true;
  if (seeking_ && seek_ == Seek::kAnyRecord) {
    // Lost bytes we were skipping anyway; what follows starts a new chunk.
    hold_.clear();
    skipped_ += n;
    return true;
  }
  if (seeking_) {
    // The first record (ClientHello, ServerHello) may be what was lost.
    hold_.clear();
    if (!sink.OnFramingLost()) stopped_ = true;
    return false;
  }
  if (hold_.empty() && body_left_ > 0 && n <= body_left_ && n <= skippable) {
    body_left_ -= n;
    bool go = sink.OnBodySkipped(n);
    if (go && body_left_ == 0) go = sink.OnRecordEnd(last_ts_);
    if (!go) stopped_ = true;
    return true;
  }
  hold_.clear();
  StartSeek(Seek::kAnyRecord);
  if (!sink.OnFramingLost()) stopped_ = true;
  return false;
}

}  // namespace waitscope::protocols::tls
