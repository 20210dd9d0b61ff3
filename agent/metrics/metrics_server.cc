#include "metrics/metrics_server.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <list>
#include <system_error>
#include <vector>

#include "metrics/listen_socket.h"
#include "metrics/metrics_http.h"

namespace waitscope::metrics {
namespace {

using Clock = std::chrono::steady_clock;

// After the response, the write side is shut and the client's leftovers are
// read and dropped until it closes: closing with unread bytes makes the
// kernel send a reset, which can destroy the response before the client
// reads it (typically the 431 to an oversized request).
constexpr std::chrono::milliseconds kLingerTimeout{1000};

class Connection {
 public:
  Connection(UniqueFd fd, Clock::time_point deadline) : fd_(std::move(fd)), deadline_(deadline) {}

  int fd() const { return fd_.get(); }
  bool done() const { return state_ == State::kDone; }
  Clock::time_point deadline() const { return deadline_; }
  short events() const { return state_ == State::kWriting ? POLLOUT : POLLIN; }

  template <typename BodyFn>
  void OnReady(const MetricsServerOptions& options, BodyFn&& body, Clock::time_point now) {
    switch (state_) {
      case State::kReading:
        Read(options, body);
        break;
      case State::kWriting:
        Write(now);
        break;
      case State::kLingering:
        Drain();
        break;
      case State::kDone:
        break;
    }
  }

  void Expire(Clock::time_point now) {
    if (now >= deadline_) state_ = State::kDone;
  }

 private:
  enum class State { kReading, kWriting, kLingering, kDone };

  template <typename BodyFn>
  void Read(const MetricsServerOptions& options, BodyFn&& body) {
    char buf[4096];
    const ssize_t n = recv(fd_.get(), buf, sizeof(buf), 0);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
      state_ = State::kDone;  // the client left before asking
      return;
    }
    if (n < 0) return;
    const std::size_t room = options.max_request_bytes - request_.size();
    request_.append(buf, std::min(static_cast<std::size_t>(n), room));
    const std::size_t end = RequestHeadEnd(request_);
    if (end > 0) {
      std::shared_ptr<const std::string> metrics = body();
      MetricsResponse r = RouteRequest(std::string_view(request_).substr(0, end), metrics->size());
      StartResponse(std::move(r), std::move(metrics));
    } else if (request_.size() >= options.max_request_bytes) {
      StartResponse(TooLargeResponse(), nullptr);
    }
  }

  void StartResponse(MetricsResponse r, std::shared_ptr<const std::string> metrics) {
    head_ = std::move(r.head);
    if (r.send_metrics) {
      body_ = std::move(metrics);
    } else if (!r.head_only) {
      body_ = std::make_shared<const std::string>(std::move(r.error_body));
    }
    request_.clear();
    request_.shrink_to_fit();
    state_ = State::kWriting;
  }

  void Write(Clock::time_point now) {
    const std::size_t body_size = body_ ? body_->size() : 0;
    iovec iov[2];
    int count = 0;
    if (sent_ < head_.size()) {
      iov[count++] = {head_.data() + sent_, head_.size() - sent_};
      if (body_size > 0) iov[count++] = {const_cast<char*>(body_->data()), body_size};
    } else {
      const std::size_t off = sent_ - head_.size();
      iov[count++] = {const_cast<char*>(body_->data()) + off, body_size - off};
    }
    msghdr msg{};
    msg.msg_iov = iov;
    msg.msg_iovlen = static_cast<std::size_t>(count);
    // MSG_NOSIGNAL: a client that hung up must not SIGPIPE the agent.
    const ssize_t n = sendmsg(fd_.get(), &msg, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno != EAGAIN && errno != EINTR) state_ = State::kDone;
      return;
    }
    sent_ += static_cast<std::size_t>(n);
    if (sent_ < head_.size() + body_size) return;
    body_.reset();
    shutdown(fd_.get(), SHUT_WR);
    state_ = State::kLingering;
    deadline_ = std::min(deadline_, now + kLingerTimeout);
  }

  void Drain() {
    char buf[4096];
    const ssize_t n = recv(fd_.get(), buf, sizeof(buf), 0);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) state_ = State::kDone;
  }

  UniqueFd fd_;
  Clock::time_point deadline_;
  State state_ = State::kReading;
  std::string request_;
  std::string head_;
  std::shared_ptr<const std::string> body_;
  std::size_t sent_ = 0;
};

}  // namespace

Result<std::unique_ptr<MetricsServer>> MetricsServer::Start(MetricsServerOptions options) {
  if (options.max_connections == 0 || options.max_request_bytes == 0) {
    return Error{"metrics server: max_connections and max_request_bytes must be positive"};
  }
  Result<ListeningSocket> listening = ListenTcp(options.host, options.port, /*backlog=*/128);
  if (!listening) return listening.error();
  UniqueFd wake(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!wake.valid()) {
    return Error{std::string("metrics server: cannot create an eventfd: ") + std::strerror(errno)};
  }
  std::unique_ptr<MetricsServer> server(new MetricsServer(
      std::move(options), std::move(listening->fd), std::move(wake), listening->port));
  try {
    server->thread_ = std::thread([s = server.get()] { s->Run(); });
  } catch (const std::system_error& e) {
    return Error{std::string("metrics server: cannot start its thread: ") + e.what()};
  }
  return server;
}

MetricsServer::MetricsServer(MetricsServerOptions options, UniqueFd listen_fd, UniqueFd wake_fd,
                             std::uint16_t port)
    : options_(std::move(options)),
      listen_fd_(std::move(listen_fd)),
      wake_fd_(std::move(wake_fd)),
      port_(port),
      body_(std::make_shared<const std::string>()) {}

MetricsServer::~MetricsServer() {
  if (thread_.joinable()) {
    const std::uint64_t one = 1;
    // An eventfd write of 1 cannot fail short of overflow; ignore the result.
    [[maybe_unused]] const ssize_t n = write(wake_fd_.get(), &one, sizeof(one));
    thread_.join();
  }
}

void MetricsServer::Publish(std::string body) {
  auto next = std::make_shared<const std::string>(std::move(body));
  std::lock_guard lock(body_mutex_);
  body_ = std::move(next);
}

std::shared_ptr<const std::string> MetricsServer::Body() const {
  std::lock_guard lock(body_mutex_);
  return body_;
}

void MetricsServer::Run() {
  std::list<Connection> conns;
  std::vector<pollfd> fds;
  Clock::time_point accept_paused_until{};
  for (;;) {
    Clock::time_point now = Clock::now();
    const bool accepting = conns.size() < options_.max_connections && now >= accept_paused_until;
    fds.clear();
    fds.push_back({wake_fd_.get(), POLLIN, 0});
    fds.push_back({accepting ? listen_fd_.get() : -1, POLLIN, 0});  // fd -1: ignored by poll
    Clock::time_point next_deadline = Clock::time_point::max();
    if (!accepting && conns.size() < options_.max_connections) {
      next_deadline = accept_paused_until;
    }
    for (const Connection& c : conns) {
      fds.push_back({c.fd(), c.events(), 0});
      next_deadline = std::min(next_deadline, c.deadline());
    }
    int timeout_ms = -1;
    if (next_deadline != Clock::time_point::max()) {
      const auto wait = std::chrono::ceil<std::chrono::milliseconds>(next_deadline - now);
      timeout_ms = static_cast<int>(std::clamp<std::int64_t>(wait.count(), 0, 60'000));
    }
    if (poll(fds.data(), fds.size(), timeout_ms) < 0 && errno != EINTR) return;
    if (fds[0].revents != 0) return;  // stop requested
    now = Clock::now();

    std::size_t i = 2;
    for (Connection& c : conns) {
      if (fds[i++].revents != 0)
        c.OnReady(
            options_, [this] { return Body(); }, now);
      c.Expire(now);
    }
    conns.remove_if([](const Connection& c) { return c.done(); });

    if (fds[1].revents != 0) {
      while (conns.size() < options_.max_connections) {
        UniqueFd fd(accept4(listen_fd_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
        if (fd.valid()) {
          conns.emplace_back(std::move(fd), now + options_.request_timeout);
          continue;
        }
        // Out of descriptors: the listening socket stays readable, so back
        // off instead of spinning; the pending client waits in the backlog.
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
          accept_paused_until = now + std::chrono::milliseconds(100);
        }
        break;  // EAGAIN, or a client that reset before we accepted it
      }
    }
  }
}

}  // namespace waitscope::metrics
