#include "otlp/sender.h"

#include <spdlog/spdlog.h>

#include <random>
#include <utility>

#include "export/gzip.h"
#include "otlp/response_body.h"
#include "otlp/retry_policy.h"

namespace waitscope::otlp {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

namespace {

// Why a request got no answer to act on, for a log line.
std::string TransportOrStatus(const HttpResponse& response) {
  return response.status == 0 ? response.transport_error
                              : "HTTP " + std::to_string(response.status);
}

// Why a server refused: its error message, or for a redirect where to (not
// followed: the configured headers, credentials among them, would go to
// another host).
std::string RefusalText(const HttpResponse& response) {
  if (response.status >= 300 && response.status < 400 && !response.location.empty()) {
    return "a redirect to " + ErrorBodyText("", response.location) +
           ", which is not followed: set the endpoint to that URL";
  }
  return ErrorBodyText(response.content_type, response.body);
}

}  // namespace

Result<std::unique_ptr<Sender>> Sender::Start(SenderConfig config) {
  Result<Spool> spool = Spool::Open(config.spool);
  if (!spool) return spool.error();
  if (!spool->empty()) {
    spdlog::info("{}: {} request(s) ({} bytes) left in spool {} from an earlier run will be sent",
                 config.name, spool->size(), spool->bytes(), spool->dir());
  }
  std::unique_ptr<Sender> sender(new Sender(std::move(config), std::move(*spool)));
  sender->worker_ = std::thread([s = sender.get()] { s->Run(); });
  return sender;
}

Sender::Sender(SenderConfig config, Spool spool)
    : config_(std::move(config)), http_(config_.http), spool_(std::move(spool)) {
  stats_.dropped_oldest = spool_.dropped();  // trimmed at load (a smaller bound than last run)
  stats_.spool_bytes = spool_.bytes();
  stats_.spool_entries = spool_.size();
}

Sender::~Sender() {
  Stop(milliseconds(0));
}

void Sender::Enqueue(std::string route, std::string body) {
  std::lock_guard lock(mu_);
  ++stats_.enqueued;
  pending_bytes_ += body.size();
  pending_.push_back(Pending{std::move(route), std::move(body)});
  // While the worker is stuck in a request, the hand-off queue obeys the
  // spool's bound too.
  while (pending_bytes_ > config_.spool.max_bytes && pending_.size() > 1) {
    pending_bytes_ -= pending_.front().body.size();
    pending_.pop_front();
    ++stats_.dropped_oldest;
  }
  wake_.notify_one();
}

SenderStats Sender::Stats() const {
  std::lock_guard lock(mu_);
  SenderStats stats = stats_;
  stats.spool_bytes += pending_bytes_;
  stats.spool_entries += pending_.size();
  return stats;
}

bool Sender::IdleLocked() const {
  // spool_ is only changed by the worker while in_flight_ is set.
  return pending_.empty() && !in_flight_ && spool_.empty();
}

bool Sender::WaitIdle(milliseconds timeout) {
  std::unique_lock lock(mu_);
  return idle_.wait_for(lock, timeout, [this] { return IdleLocked(); });
}

void Sender::Stop(milliseconds drain) {
  {
    std::unique_lock lock(mu_);
    if (!worker_.joinable()) return;
    stopping_ = true;
    wake_.notify_one();
    idle_.wait_for(lock, drain, [this] { return IdleLocked(); });
    abort_ = true;
    wake_.notify_one();
  }
  worker_.join();
}

void Sender::Run() {
  std::unique_lock lock(mu_);
  while (!abort_) {
    if (!pending_.empty()) {
      SpoolPending(lock);
      continue;
    }
    if (spool_.empty()) {
      idle_.notify_all();
      if (stopping_) break;
      wake_.wait(lock, [this] { return abort_ || stopping_ || !pending_.empty(); });
      continue;
    }
    if (steady_clock::now() < next_attempt_) {
      wake_.wait_until(lock, next_attempt_, [this] { return abort_ || !pending_.empty(); });
      continue;
    }
    Deliver(lock);
  }
  // Whatever is still in memory goes to disk for the next run.
  if (!pending_.empty()) SpoolPending(lock);
  idle_.notify_all();
}

void Sender::SpoolPending(std::unique_lock<std::mutex>& lock) {
  std::deque<Pending> batch;
  batch.swap(pending_);
  pending_bytes_ = 0;
  in_flight_ = true;
  lock.unlock();

  std::uint64_t dropped = 0;
  std::uint64_t lost = 0;
  for (Pending& item : batch) {
    std::string encoding;
    if (config_.gzip) {
      // Compressed before spooling: smaller on disk, and sent as stored.
      Result<std::string> gz = GzipCompress(item.body);
      if (gz) {
        item.body = std::move(*gz);
        encoding = "gzip";
      }
    }
    Result<std::uint64_t> pushed = spool_.Push(item.route, encoding, item.body);
    if (!pushed) {
      spdlog::warn("{}: request lost: {}", config_.name, pushed.error().message);
      ++lost;
      continue;
    }
    dropped += *pushed;
  }
  if (dropped > 0) {
    spdlog::warn("{}: spool full ({} bytes max), dropped the {} oldest request(s)", config_.name,
                 config_.spool.max_bytes, dropped);
  }

  lock.lock();
  in_flight_ = false;
  stats_.dropped_oldest += dropped;
  stats_.lost += lost;
  stats_.spool_bytes = spool_.bytes();
  stats_.spool_entries = spool_.size();
  idle_.notify_all();
}

void Sender::Deliver(std::unique_lock<std::mutex>& lock) {
  in_flight_ = true;
  lock.unlock();

  Result<SpoolEntry> entry = spool_.Front();
  HttpResponse response;
  Outcome outcome = Outcome::kReject;
  std::string url;
  if (entry) {
    url = config_.url_for(entry->route);
    if (!url.empty()) {
      response = http_.Post(url, entry->body, config_.content_type, entry->encoding, &abort_);
      outcome = ClassifyStatus(response.status);
    }
  }
  const bool aborted = abort_ && response.status == 0;
  // Without a spool nothing waits for a retry: the request is dropped.
  const bool unspooled = !aborted && outcome == Outcome::kRetry && spool_.none();
  if (!aborted && (outcome != Outcome::kRetry || unspooled)) spool_.PopFront();

  lock.lock();
  in_flight_ = false;
  if (!entry) {
    spdlog::warn("{}: spooled request lost: {}", config_.name, entry.error().message);
    ++stats_.lost;
  } else if (url.empty()) {
    spdlog::warn("{}: no endpoint for '{}', request dropped", config_.name, entry->route);
    ++stats_.rejected;
  } else if (!aborted) {
    ++stats_.attempts;
    if (attempt_ > 0) ++stats_.retried;
    switch (outcome) {
      case Outcome::kDelivered:
        ++stats_.sent;
        if (std::optional<std::string> part =
                config_.partial_success ? config_.partial_success(response.body) : std::nullopt) {
          // Not retried (the spec forbids it); warned once, then counted.
          if (stats_.partial++ == 0) {
            spdlog::warn(
                "{}: {} took a request only in part ({}); further ones are counted in "
                "waitscope.exporter.requests{{outcome=\"partial\"}}",
                config_.name, url, *part);
          } else {
            spdlog::debug("{}: {} took a request only in part ({})", config_.name, url, *part);
          }
        }
        if (endpoint_down_) spdlog::info("{}: {} reachable again", config_.name, url);
        endpoint_down_ = false;
        attempt_ = 0;
        next_attempt_ = {};
        break;
      case Outcome::kReject:
        ++stats_.failed_attempts;
        ++stats_.rejected;
        spdlog::warn("{}: {} refused a request with HTTP {}, dropped it: {}", config_.name, url,
                     response.status, RefusalText(response));
        attempt_ = 0;
        next_attempt_ = {};
        break;
      case Outcome::kRetry: {
        ++stats_.failed_attempts;
        if (unspooled) {
          ++stats_.dropped_oldest;
          if (!endpoint_down_) {
            spdlog::warn(
                "{}: {} unavailable ({}); no spool (spool.max_bytes: 0), so requests "
                "are dropped until it is back",
                config_.name, url, TransportOrStatus(response));
          }
          endpoint_down_ = true;
          attempt_ = 0;
          next_attempt_ = {};
          break;
        }
        thread_local std::mt19937_64 rng{std::random_device{}()};
        const double unit = std::uniform_real_distribution<double>(0.0, 1.0)(rng);
        const milliseconds delay = NextDelay(
            attempt_, ParseRetryAfter(response.retry_after, std::chrono::system_clock::now()),
            config_.retry, unit);
        ++attempt_;
        next_attempt_ = steady_clock::now() + delay;
        const std::string why = TransportOrStatus(response);
        if (!endpoint_down_) {
          spdlog::warn("{}: {} unavailable ({}); keeping data in the spool and retrying",
                       config_.name, url, why);
        } else {
          spdlog::debug("{}: retry {} in {} ms ({})", config_.name, attempt_, delay.count(), why);
        }
        endpoint_down_ = true;
        break;
      }
    }
  }
  stats_.spool_bytes = spool_.bytes();
  stats_.spool_entries = spool_.size();
  idle_.notify_all();
}

}  // namespace waitscope::otlp
