// RequestAttributor ties what a serving thread did to the request it was
// serving. A server request's window on its thread runs from the read that
// completed the request to the write that completed the response; every
// wait (WS_EV_WAIT), client exchange (SQL, Redis, outbound HTTP) and new
// client connection of that thread inside the window belongs to it. The
// rest of the window is CPU (or run-queue) time.
//
// Inputs arrive from two ring buffers that are not ordered with each other,
// and a server exchange is only known once its response is written, after
// the waits inside it. So the attributor buffers each thread's recent spans
// and settles a request only when events up to its end have surely been
// read (Flush with the time the last poll started, minus a margin).
//
// Threads whose request windows overlap serve several requests at once: an
// event loop. Their requests are passed on unattributed, and their blocking
// waits (not the park in epoll_wait/poll) become EventLoopBlocks, each named
// after the first response the loop wrote once it ran again: the handler
// that blocked resumes first and, as a rule, answers its request then.
//
// Memory: per thread at most `max_spans_per_thread` buffered spans of each
// kind (oldest dropped, counted), `max_spans_before_serving` until the
// thread serves its first request, none for a process that cannot be
// serving yet (ExchangeOrigin::may_serve); threads idle for `horizon_ns` are
// forgotten. Not thread-safe: one event loop feeds it.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "aggregate/wait_collector.h"
#include "conn/wire_observer.h"
#include "core/ring_queue.h"
#include "findings/request_record.h"

namespace waitscope::findings {

struct AttributorOptions {
  std::uint64_t settle_ns = 50'000'000;       // how late a span may arrive after its request ends
  std::uint64_t horizon_ns = 60'000'000'000;  // longest request whose spans we keep
  std::size_t max_spans_per_thread = 16384;
  // Until a thread serves its first request it keeps fewer: only that
  // request's own spans can ever matter, and pure clients (a benchmark, a
  // batch job) then cycle through a buffer that stays in cache. 16384 spans
  // per pgbench thread made freeing evicted spans a third of the agent's CPU.
  std::size_t max_spans_before_serving = 1024;
  std::uint64_t loop_block_min_ns = 1'000'000;  // event-loop waits shorter than this are not kept
  // How long an event-loop block waits for the response that names its
  // endpoint before it is passed on without one.
  std::uint64_t loop_response_wait_ns = 1'000'000'000;
  // Names an event-loop thread (the live trace reads /proc); unset: unnamed.
  std::function<std::string(std::uint32_t pid, std::uint32_t tid)> thread_name;
};

struct AttributorStats {
  std::uint64_t requests = 0;
  std::uint64_t unattributed_requests = 0;  // served by event-loop threads
  std::uint64_t spans_dropped = 0;  // buffer of a serving thread full: a request may miss a span
  std::uint64_t event_loop_threads = 0;
};

class RequestAttributor : public WireObserver {
 public:
  using RequestSink = std::function<void(RequestRecord&&)>;
  using LoopBlockSink = std::function<void(EventLoopBlock&&)>;

  RequestAttributor(RequestSink requests, LoopBlockSink loop_blocks,
                    AttributorOptions options = {});
  // Not copyable: last_thread_ points into threads_.
  RequestAttributor(const RequestAttributor&) = delete;
  RequestAttributor& operator=(const RequestAttributor&) = delete;

  void OnWait(const WaitEvent& wait);
  void OnExchange(const ExchangeOrigin& origin, const protocols::Exchange& exchange) override;
  void OnClientConnectionUse(const ClientConnectionUse& use) override;
  void OnTlsHandshake(const ExchangeOrigin& origin,
                      const protocols::tls::Handshake& handshake) override;

  // Settles requests that ended before `now_ns - settle_ns`; `now_ns` is a
  // CLOCK_MONOTONIC time at which every event before it had been read.
  void Flush(std::uint64_t now_ns);
  // End of recording: settles everything.
  void Finish();

  const AttributorStats& stats() const { return stats_; }

 private:
  struct BufferedWait {
    WaitClass wait_class;
    std::string syscall;
    std::string target;
    std::uint64_t end_ns;
    std::uint64_t blocked_ns;
    std::shared_ptr<const std::vector<Frame>> frames;
  };
  struct PendingRequest {
    RequestRecord record;
    std::string client_peer;  // the request's own socket: waits on it are not the request's
  };
  struct ThreadState {
    std::deque<BufferedWait> waits;
    RingQueue<StatementSpan> statements;  // one per client exchange: the hot queue
    std::deque<ConnectSpan> connects;
    std::deque<TlsSpan> handshakes;
    std::vector<PendingRequest> pending;  // in response order
    // Event loops: blocks waiting for the response that follows them, and
    // the loop's recent responses (end time, endpoint).
    std::deque<EventLoopBlock> loop_blocks;
    std::deque<std::pair<std::uint64_t, std::string>> loop_responses;
    std::string comm;
    std::uint64_t last_request_end_ns = 0;
    std::uint64_t last_seen_ns = 0;
    bool event_loop = false;
  };
  using ThreadKey = std::pair<std::uint32_t, std::uint32_t>;  // (pid, tid)

  ThreadState& Thread(std::uint32_t pid, std::uint32_t tid);
  void MarkEventLoop(std::uint32_t pid, std::uint32_t tid, ThreadState& t);
  void AddLoopBlock(ThreadState& t, EventLoopBlock&& b);
  void AddLoopResponse(ThreadState& t, std::uint64_t end_ns, const std::string& endpoint);
  // Passes on the blocks whose endpoint is known, or that waited long
  // enough for it before `settled_before_ns`; all of them when `final`.
  void ResolveLoopBlocks(ThreadState& t, std::uint64_t settled_before_ns, bool final);
  void Settle(ThreadState& t, PendingRequest& p);
  void Prune(ThreadState& t, std::uint64_t before_ns);
  template <typename T>
  void PushBounded(const ThreadState& t, std::deque<T>& q, T&& item);
  // Drops q's oldest span if q is full (see PushBounded).
  template <typename Queue>
  void MakeRoom(const ThreadState& t, Queue& q);

  RequestSink request_sink_;
  LoopBlockSink loop_block_sink_;
  AttributorOptions options_;
  std::map<ThreadKey, ThreadState> threads_;
  ThreadState* last_thread_ = nullptr;  // Thread()'s previous answer; map nodes do not move
  ThreadKey last_thread_key_;
  std::unordered_map<std::string, std::string> peer_protocol_;  // "ip:port" -> protocol
  std::string last_client_peer_;                                // in peer_protocol_ already
  std::uint64_t last_client_conn_id_ = 0;                       // its peer is last_client_peer_
  std::uint64_t latest_ns_ = 0;
  AttributorStats stats_;
};

}  // namespace waitscope::findings
