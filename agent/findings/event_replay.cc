#include "findings/event_replay.h"

#include <algorithm>
#include <limits>
#include <type_traits>
#include <utility>

namespace waitscope::findings {
namespace {

template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

// Time stamps of an event, for shifting and for the stream's span.
template <typename Event, typename Fn>
void ForEachTime(Event& event, Fn&& fn) {
  std::visit(
      [&](auto& e) {
        using T = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<T, WaitEvent>) {
          fn(e.end_ns);
        } else if constexpr (std::is_same_v<T, StreamExchange>) {
          fn(e.exchange.request_end_ns);
          fn(e.exchange.response_end_ns);
        } else if constexpr (std::is_same_v<T, ClientConnectionUse>) {
          fn(e.opened_ns);
        } else if constexpr (std::is_same_v<T, StreamHandshake>) {
          fn(e.handshake.start_ns);
          fn(e.handshake.end_ns);
        } else if constexpr (std::is_same_v<T, StreamFlush>) {
          fn(e.now_ns);
        }
      },
      event);
}

}  // namespace

EventReplayer::EventReplayer(DetectorConfig config, AttributorOptions options)
    : pipeline_(config, std::move(options)) {}

void EventReplayer::Add(const StreamExchange& e) {
  // As ConnectionTracker::Drain: tables only for connections with a peer.
  if (!e.origin.peer.empty()) wire_.AddExchange(e.origin, e.exchange);
  plaintext_conns_.insert(e.origin.conn_id);
  pipeline_.observer()->OnExchange(e.origin, e.exchange);
}

void EventReplayer::Feed(const StreamEvent& event, std::uint64_t shift_ns) {
  if (shift_ns != 0) {
    StreamEvent shifted = event;
    ForEachTime(shifted, [&](std::uint64_t& t) {
      if (t != 0) t += shift_ns;
    });
    Feed(shifted, 0);
    return;
  }
  std::visit(
      Overloaded{
          [&](const WaitEvent& w) { pipeline_.OnWait(w); },
          [&](const StreamExchange& x) { Add(x); },
          [&](const ClientConnectionUse& u) { pipeline_.observer()->OnClientConnectionUse(u); },
          [&](const StreamHandshake& h) {
            handshakes_.push_back(h);
            pipeline_.observer()->OnTlsHandshake(h.origin, h.handshake);
          },
          [&](const StreamFlush& f) { pipeline_.Flush(f.now_ns); },
          [&](const StreamEnd&) {},
      },
      event);
}

Report EventReplayer::Finish(double duration_s) {
  for (const StreamHandshake& h : handshakes_) {
    ExchangeOrigin origin = h.origin;
    origin.tid = 0;  // as the tracker counts it at close
    wire_.AddTlsHandshake(origin, h.handshake, plaintext_conns_.count(h.origin.conn_id) > 0);
  }
  handshakes_.clear();
  // The rows TraceSession::TakeWindow takes from its aggregator.
  Report report;
  report.duration_s = duration_s;
  report.queries = wire_.Queries();
  report.cache = wire_.Cache();
  report.http = wire_.Http();
  report.tls = wire_.Tls();
  wire_.Reset();
  pipeline_.TakeWindow(report, /*last=*/true);
  return report;
}

std::pair<std::uint64_t, std::uint64_t> StreamTimeSpan(const EventStream& stream) {
  std::uint64_t first = std::numeric_limits<std::uint64_t>::max(), last = 0;
  for (const StreamEvent& e : stream.events) {
    ForEachTime(e, [&](const std::uint64_t& t) {
      if (t == 0) return;
      first = std::min(first, t);
      last = std::max(last, t);
    });
  }
  return last == 0 ? std::pair<std::uint64_t, std::uint64_t>{0, 0} : std::pair{first, last};
}

Report ReplayEventStream(const EventStream& stream, DetectorConfig config,
                         AttributorOptions options) {
  EventReplayer replayer(config, std::move(options));
  double duration_s = -1;
  std::uint64_t first_flush = 0, last_flush = 0;
  for (const StreamEvent& e : stream.events) {
    replayer.Feed(e);
    if (const auto* end = std::get_if<StreamEnd>(&e)) duration_s = end->duration_s;
    if (const auto* f = std::get_if<StreamFlush>(&e)) {
      if (first_flush == 0) first_flush = f->now_ns;
      last_flush = f->now_ns;
    }
  }
  if (duration_s < 0) duration_s = static_cast<double>(last_flush - first_flush) / 1e9;
  return replayer.Finish(duration_s);
}

}  // namespace waitscope::findings
