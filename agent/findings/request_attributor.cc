#include "findings/request_attributor.h"

#include <algorithm>

#include "findings/finding_format.h"

namespace waitscope::findings {
namespace {

// The statement a wait belongs to: same thread, and the wait ended while the
// statement was outstanding (request sent, response not yet read). Drivers
// often park in poll() with no fd argument (libpq does), so time decides and
// the target only breaks ties.
const StatementSpan* StatementOf(const std::vector<StatementSpan>& statements,
                                 std::uint64_t wait_end_ns, const std::string& target) {
  const StatementSpan* best = nullptr;
  for (const StatementSpan& s : statements) {
    if (wait_end_ns < s.start_ns || wait_end_ns > s.end_ns) continue;
    if (s.peer == target) return &s;
    if (!best) best = &s;
  }
  return best;
}

// The handshake a wait on `target` belongs to (it ended during it).
const TlsSpan* HandshakeOf(const std::vector<TlsSpan>& handshakes, std::uint64_t wait_end_ns,
                           const std::string& target) {
  for (const TlsSpan& h : handshakes) {
    if (h.peer == target && wait_end_ns >= h.start_ns && wait_end_ns <= h.start_ns + h.duration_ns)
      return &h;
  }
  return nullptr;
}

}  // namespace

RequestAttributor::RequestAttributor(RequestSink requests, LoopBlockSink loop_blocks,
                                     AttributorOptions options)
    : request_sink_(std::move(requests)),
      loop_block_sink_(std::move(loop_blocks)),
      options_(std::move(options)) {}

RequestAttributor::ThreadState& RequestAttributor::Thread(std::uint32_t pid, std::uint32_t tid) {
  // Events come in runs from one thread (a connection's pipelined replies,
  // a drain of one read): a compare then, not a walk of the tree.
  const ThreadKey key{pid, tid};
  if (last_thread_ == nullptr || last_thread_key_ != key) {
    last_thread_ = &threads_[key];
    last_thread_key_ = key;
  }
  return *last_thread_;
}

template <typename Queue>
void RequestAttributor::MakeRoom(const ThreadState& t, Queue& q) {
  const bool serving = t.last_request_end_ns != 0 || t.event_loop;
  if (q.size() >= (serving ? options_.max_spans_per_thread : options_.max_spans_before_serving)) {
    q.pop_front();
    // Threads that never served a request (clients, background work) only
    // keep spans in case they start to: losing old ones costs nothing.
    if (t.last_request_end_ns != 0) ++stats_.spans_dropped;
  }
}

template <typename T>
void RequestAttributor::PushBounded(const ThreadState& t, std::deque<T>& q, T&& item) {
  MakeRoom(t, q);
  q.push_back(std::forward<T>(item));
}

void RequestAttributor::OnWait(const WaitEvent& w) {
  latest_ns_ = std::max(latest_ns_, w.end_ns);
  ThreadState& t = Thread(w.pid, w.tid);
  t.last_seen_ns = w.end_ns;
  if (t.event_loop) {
    // Parking in epoll_wait/poll is what an event loop does between
    // requests; anything else blocks every connection it serves.
    if (w.wait_class != WaitClass::kPoll && w.blocked_ns >= options_.loop_block_min_ns) {
      AddLoopBlock(t, EventLoopBlock{.pid = w.pid,
                                     .tid = w.tid,
                                     .wait_class = w.wait_class,
                                     .syscall = w.syscall,
                                     .target = w.target,
                                     .start_ns = w.end_ns - std::min(w.end_ns, w.blocked_ns),
                                     .blocked_ns = w.blocked_ns});
    }
    return;
  }
  PushBounded(t, t.waits,
              BufferedWait{w.wait_class, w.syscall, w.target, w.end_ns, w.blocked_ns, w.frames});
}

void RequestAttributor::OnClientConnectionUse(const ClientConnectionUse& use) {
  ThreadState& t = Thread(use.pid, use.tid);
  PushBounded(t, t.connects, ConnectSpan{use.peer, use.conn_id, use.opened_ns, use.connect_ns});
}

void RequestAttributor::OnTlsHandshake(const ExchangeOrigin& o,
                                       const protocols::tls::Handshake& h) {
  // A server's handshakes happen before the request is read: they are not
  // part of its window. Only the client side is attributed.
  if (o.tid == 0 || o.server) return;
  ThreadState& t = Thread(o.pid, o.tid);
  PushBounded(t, t.handshakes,
              TlsSpan{o.peer, h.version, h.resumed, h.failed, h.start_ns,
                      h.end_ns > h.start_ns ? h.end_ns - h.start_ns : 0});
}

void RequestAttributor::OnExchange(const ExchangeOrigin& o, const protocols::Exchange& ex) {
  if (o.tid == 0) return;  // completed at close by an unknown thread: nothing to tie it to
  latest_ns_ = std::max(latest_ns_, ex.response_end_ns);
  ThreadState& t = Thread(o.pid, o.tid);
  t.last_seen_ns = std::max(t.last_seen_ns, ex.response_end_ns);
  if (!o.server) {
    // A peer keeps its protocol. Consecutive exchanges mostly come over one
    // connection, or at least share a peer: an integer compare then, or a
    // string compare, not a hash per exchange. A connection's peer can still
    // be unknown (empty), then learned: such a connection is not remembered.
    if (o.conn_id == 0 || o.conn_id != last_client_conn_id_) {
      if (o.peer != last_client_peer_) {
        peer_protocol_.try_emplace(o.peer, o.protocol);
        last_client_peer_ = o.peer;
      }
      last_client_conn_id_ = o.peer.empty() ? 0 : o.conn_id;
    }
    // A pure client (a benchmark, a batch job) has no request its spans
    // could belong to; a request that starts later is after them.
    if (!o.may_serve) return;
    // Built in place: a client's spans are one per exchange.
    MakeRoom(t, t.statements);
    StatementSpan& s = t.statements.emplace_back();
    s.protocol = o.protocol;
    s.peer = o.peer;
    s.statement = ex.statement;
    s.conn_id = o.conn_id;
    s.start_ns = ex.request_end_ns;
    s.end_ns = std::max(ex.response_end_ns, ex.request_end_ns);
    s.error = ex.error;
    s.cache_reads = ex.cache_reads;
    s.cache_hits = ex.cache_hits;
    return;
  }
  // Only HTTP requests are requests here; a database server's sessions are
  // reported as statements, not endpoints.
  if (ex.protocol != protocols::Protocol::kHttp1) return;
  RequestRecord r;
  r.pid = o.pid;
  r.tid = o.tid;
  r.endpoint = ex.statement;
  r.status = ex.http_status;
  r.error = ex.http_status == 0 || ex.http_status >= 500;
  r.start_ns = ex.request_end_ns;
  r.end_ns = std::max(ex.response_end_ns, ex.request_end_ns);

  // A thread whose requests overlap serves several at once: an event loop.
  // last_request_end_ns is the latest end of every request the thread had,
  // pending ones included, so one compare covers them all (a scan of the
  // pending requests cost O(requests per flush) each: 87 % of the agent's
  // CPU on nginx at 45k requests/s).
  const bool overlaps = r.start_ns < t.last_request_end_ns;
  t.last_request_end_ns = std::max(t.last_request_end_ns, r.end_ns);
  if (overlaps && !t.event_loop) MarkEventLoop(o.pid, o.tid, t);
  ++stats_.requests;
  if (t.event_loop) {
    AddLoopResponse(t, r.end_ns, r.endpoint);
    r.attributed = false;
    ++stats_.unattributed_requests;
    if (request_sink_) request_sink_(std::move(r));
    return;
  }
  t.pending.push_back(PendingRequest{std::move(r), o.peer});
}

void RequestAttributor::MarkEventLoop(std::uint32_t pid, std::uint32_t tid, ThreadState& t) {
  t.event_loop = true;
  ++stats_.event_loop_threads;
  if (options_.thread_name) t.comm = options_.thread_name(pid, tid);
  for (PendingRequest& p : t.pending) {
    AddLoopResponse(t, p.record.end_ns, p.record.endpoint);
    p.record.attributed = false;
    ++stats_.unattributed_requests;
    if (request_sink_) request_sink_(std::move(p.record));
  }
  t.pending.clear();
  for (const BufferedWait& w : t.waits) {
    if (w.wait_class == WaitClass::kPoll || w.blocked_ns < options_.loop_block_min_ns) continue;
    AddLoopBlock(t, EventLoopBlock{.pid = pid,
                                   .tid = tid,
                                   .wait_class = w.wait_class,
                                   .syscall = w.syscall,
                                   .target = w.target,
                                   .start_ns = w.end_ns - std::min(w.end_ns, w.blocked_ns),
                                   .blocked_ns = w.blocked_ns});
  }
  t.waits.clear();
  t.statements.clear();
  t.connects.clear();
  t.handshakes.clear();
}

void RequestAttributor::AddLoopBlock(ThreadState& t, EventLoopBlock&& b) {
  b.comm = t.comm;
  if (t.loop_blocks.size() >= options_.max_spans_per_thread) {
    // Unnamed rather than lost: the block still counts.
    if (loop_block_sink_) loop_block_sink_(std::move(t.loop_blocks.front()));
    t.loop_blocks.pop_front();
  }
  t.loop_blocks.push_back(std::move(b));
}

void RequestAttributor::AddLoopResponse(ThreadState& t, std::uint64_t end_ns,
                                        const std::string& endpoint) {
  if (t.loop_responses.size() >= options_.max_spans_per_thread) t.loop_responses.pop_front();
  t.loop_responses.emplace_back(end_ns, endpoint);
}

void RequestAttributor::ResolveLoopBlocks(ThreadState& t, std::uint64_t settled_before_ns,
                                          bool final) {
  // Responses come from one ring in the order they were written, so the
  // first one at or after a block's end, once seen, is the one after it.
  while (!t.loop_blocks.empty()) {
    EventLoopBlock& b = t.loop_blocks.front();
    const std::uint64_t end = b.start_ns + b.blocked_ns;
    auto r = std::find_if(t.loop_responses.begin(), t.loop_responses.end(),
                          [&](const auto& x) { return x.first >= end; });
    if (r != t.loop_responses.end()) {
      b.endpoint = r->second;
    } else if (!final && end + options_.loop_response_wait_ns > settled_before_ns) {
      break;  // its response may still come
    }
    if (loop_block_sink_) loop_block_sink_(std::move(b));
    t.loop_blocks.pop_front();
  }
  // A block read later than a response ends after what was settled: older
  // responses can no longer name one.
  const std::uint64_t keep_from =
      t.loop_blocks.empty() ? settled_before_ns - std::min(settled_before_ns, options_.settle_ns)
                            : t.loop_blocks.front().start_ns;
  while (!t.loop_responses.empty() && t.loop_responses.front().first < keep_from) {
    t.loop_responses.pop_front();
  }
}

void RequestAttributor::Settle(ThreadState& t, PendingRequest& p) {
  RequestRecord& r = p.record;
  const std::uint64_t s = r.start_ns;
  const std::uint64_t e = r.end_ns;
  for (const StatementSpan& st : t.statements) {
    if (st.end_ns > s && st.end_ns <= e) r.statements.push_back(st);
  }
  for (const ConnectSpan& c : t.connects) {
    if (c.start_ns <= s || c.start_ns > e) continue;
    ConnectSpan span = c;
    for (const StatementSpan& st : r.statements) {
      if (st.conn_id == c.conn_id && st.start_ns >= c.start_ns) {
        span.setup_ns = st.start_ns - c.start_ns;
        break;
      }
    }
    r.connects.push_back(span);
  }
  for (const TlsSpan& h : t.handshakes) {
    if (h.start_ns > s && h.start_ns <= e) r.tls.push_back(h);
  }
  std::uint64_t blocked_total = 0;
  for (const BufferedWait& w : t.waits) {
    if (w.end_ns <= s || w.end_ns > e) continue;
    if (w.target == p.client_peer) continue;  // waiting on the request's own socket
    WaitSpan span;
    span.wait_class = w.wait_class;
    span.syscall = w.syscall;
    span.target = w.target;
    span.end_ns = w.end_ns;
    span.blocked_ns = std::min(w.blocked_ns, w.end_ns - s);
    span.start_ns = w.end_ns - span.blocked_ns;
    if (const TlsSpan* h = HandshakeOf(r.tls, w.end_ns, w.target)) {
      span.wait_class = WaitClass::kTls;
      span.target = h->peer;
    } else if (const StatementSpan* st = StatementOf(r.statements, w.end_ns, w.target)) {
      span.statement = st->statement;
      span.protocol = st->protocol;
      span.target = st->peer;
      span.wait_class = IsDatabaseProtocol(st->protocol) ? WaitClass::kDb : WaitClass::kNet;
    } else if (auto it = peer_protocol_.find(w.target); it != peer_protocol_.end()) {
      span.protocol = it->second;
      if (IsDatabaseProtocol(it->second)) span.wait_class = WaitClass::kDb;
    }
    if (w.frames) span.frames = *w.frames;
    blocked_total += span.blocked_ns;
    r.waits.push_back(std::move(span));
  }
  const std::uint64_t duration = r.duration_ns();
  r.cpu_ns = duration > blocked_total ? duration - blocked_total : 0;
  Prune(t, e);
  if (request_sink_) request_sink_(std::move(r));
}

void RequestAttributor::Prune(ThreadState& t, std::uint64_t before_ns) {
  while (!t.waits.empty() && t.waits.front().end_ns <= before_ns) t.waits.pop_front();
  while (!t.statements.empty() && t.statements.front().end_ns <= before_ns)
    t.statements.pop_front();
  while (!t.connects.empty() && t.connects.front().start_ns <= before_ns) t.connects.pop_front();
  while (!t.handshakes.empty() && t.handshakes.front().start_ns <= before_ns)
    t.handshakes.pop_front();
}

void RequestAttributor::Flush(std::uint64_t now_ns) {
  const std::uint64_t settled_before =
      now_ns > options_.settle_ns ? now_ns - options_.settle_ns : 0;
  const std::uint64_t horizon = now_ns > options_.horizon_ns ? now_ns - options_.horizon_ns : 0;
  for (auto it = threads_.begin(); it != threads_.end();) {
    ThreadState& t = it->second;
    std::size_t done = 0;
    while (done < t.pending.size() && t.pending[done].record.end_ns <= settled_before) {
      Settle(t, t.pending[done]);
      ++done;
    }
    t.pending.erase(t.pending.begin(), t.pending.begin() + static_cast<std::ptrdiff_t>(done));
    if (t.event_loop) ResolveLoopBlocks(t, settled_before, /*final=*/false);
    if (t.pending.empty()) {
      // No request can still claim spans older than the longest request we allow.
      Prune(t, horizon);
      if (t.last_seen_ns < horizon && !t.event_loop) {
        if (&t == last_thread_) last_thread_ = nullptr;
        it = threads_.erase(it);
        continue;
      }
    }
    ++it;
  }
}

void RequestAttributor::Finish() {
  for (auto& [key, t] : threads_) {
    for (PendingRequest& p : t.pending) Settle(t, p);
    t.pending.clear();
    ResolveLoopBlocks(t, 0, /*final=*/true);
  }
  threads_.clear();
  last_thread_ = nullptr;
}

}  // namespace waitscope::findings
