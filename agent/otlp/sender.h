// Sender: delivers encoded request bodies to an HTTP endpoint from its own
// worker thread, oldest first, through a bounded Spool (spool.h), retrying as
// retry_policy.h says. The OTLP exporter runs one per signal and the
// Pyroscope pusher one of its own.
//
// Why a worker thread and not curl-multi driven by the agent's loop: a request
// may block for up to the HTTP timeout and every spooled entry costs an
// fsync; on a thread neither ever delays the event loop, and the loop's code
// stays a plain call to Enqueue. The worker owns the spool and the HTTP client
// outright, so only the hand-off queue and the counters are shared.
//
// Thread-safety: Enqueue, Stats, WaitIdle and Stop may be called from any
// thread. Enqueue only takes a mutex and appends to an in-memory queue; the
// worker gzips (if asked), writes the entry to the spool, and sends it.
// Entries handed over while the worker is inside a request wait in memory,
// bounded by the same max_bytes (oldest dropped, counted).
//
// Lifetime: Stop (also run by the destructor, without draining) lets the
// worker keep delivering for the given time, then aborts any request in flight,
// writes what is still in memory to the spool and joins. What is in an on-disk
// spool is sent by the next Sender opened on the same directory.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "core/result.h"
#include "otlp/http_client.h"
#include "otlp/options.h"
#include "otlp/spool.h"

namespace waitscope::otlp {

struct SenderStats {
  std::uint64_t enqueued = 0;         // bodies handed to Enqueue
  std::uint64_t sent = 0;             // bodies delivered (2xx)
  std::uint64_t partial = 0;          // of those, bodies the server took only in part
  std::uint64_t attempts = 0;         // HTTP requests made
  std::uint64_t failed_attempts = 0;  // requests that got no 2xx (retryable or not)
  std::uint64_t retried = 0;          // requests that were a retry of an earlier one
  std::uint64_t rejected = 0;         // bodies dropped on a non-retryable answer (400, 500...)
  std::uint64_t dropped_oldest = 0;   // bodies pushed out by the spool bound, oldest first;
                                      // with no spool (max_bytes 0), each retryable failure
  std::uint64_t lost = 0;             // bodies that could not be written to or read from disk
  std::uint64_t spool_bytes = 0;      // pending, on disk or in memory
  std::uint64_t spool_entries = 0;
};

struct SenderConfig {
  std::string name;  // for log lines: "OTLP metrics", "Pyroscope"
  HttpOptions http;
  RetryOptions retry;
  SpoolOptions spool;
  std::string content_type;  // "application/x-protobuf"
  bool gzip = false;         // compress bodies (Content-Encoding: gzip)
  // Turns an entry's route into the URL to POST to. Called on the worker
  // thread; resolved at send time so a restarted agent with a new endpoint
  // sends its old spool there.
  std::function<std::string(const std::string& route)> url_for;
  // Reads a 2xx answer's body: what the server did not take of the request
  // (OTLP's partial success), or nullopt if it took everything. Optional.
  std::function<std::optional<std::string>(std::string_view body)> partial_success;
};

class Sender {
 public:
  // Opens (and reloads) the spool and starts the worker.
  static Result<std::unique_ptr<Sender>> Start(SenderConfig config);
  ~Sender();
  Sender(const Sender&) = delete;
  Sender& operator=(const Sender&) = delete;

  // Queues one request body for `route`. Never blocks on disk or network.
  void Enqueue(std::string route, std::string body);

  SenderStats Stats() const;

  // True once everything enqueued so far is delivered, rejected or dropped;
  // false if that did not happen within `timeout`.
  bool WaitIdle(std::chrono::milliseconds timeout);

  // Keeps delivering for up to `drain`, then stops the worker (see above).
  void Stop(std::chrono::milliseconds drain);

 private:
  struct Pending {
    std::string route;
    std::string body;
  };

  Sender(SenderConfig config, Spool spool);
  void Run();
  void SpoolPending(std::unique_lock<std::mutex>& lock);
  bool IdleLocked() const;
  void Deliver(std::unique_lock<std::mutex>& lock);

  SenderConfig config_;
  HttpClient http_;  // worker thread only
  Spool spool_;      // guarded by mu_ for size/bytes reads; mutated by the worker only

  mutable std::mutex mu_;
  std::condition_variable wake_;  // worker: new work, stop
  std::condition_variable idle_;  // WaitIdle: progress
  std::deque<Pending> pending_;
  std::uint64_t pending_bytes_ = 0;
  bool in_flight_ = false;
  bool stopping_ = false;
  std::atomic<bool> abort_{false};
  SenderStats stats_;
  int attempt_ = 0;  // retries of the current head entry
  std::chrono::steady_clock::time_point next_attempt_{};
  bool endpoint_down_ = false;  // for logging transitions only
  std::thread worker_;
};

}  // namespace waitscope::otlp
