// MetricsServer: a minimal HTTP/1.1 server for `GET /metrics` (Prometheus
// scrapes), on a thread of its own.
//
// Why a thread and not the agent's poll loop: a scrape then never waits for
// the loop to finish a window, and a slow or stuck client never delays event
// processing; the only state the two share is the published body, swapped
// under a mutex. The thread runs one poll() over the listening socket, its
// connections and a wake-up eventfd.
//
// Contract:
//  - Start() binds synchronously, so a taken port is reported to the caller
//    ("cannot listen on 127.0.0.1:9464: Address already in use") before any
//    thread exists. Default 127.0.0.1:9464; host "::1" for IPv6; the host
//    and port come from config::ParseListenAddress.
//  - Publish() (any thread) replaces the body served from the next request
//    on; responses in flight keep the body they started with (shared, not
//    copied). Before the first Publish the body is empty.
//  - One request per connection, answered with `Connection: close`:
//    200 GET/HEAD /metrics, 404 other paths, 405 other methods, 400
//    malformed, 431 when the request head exceeds max_request_bytes.
//  - Bounded memory: at most max_connections connections (more wait in the
//    kernel's accept backlog), each buffering at most max_request_bytes;
//    a connection that has not received its request and taken its whole
//    response within request_timeout is closed.
//  - The destructor stops the thread and closes every socket.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "core/result.h"
#include "symbols/unique_fd.h"

namespace waitscope::metrics {

struct MetricsServerOptions {
  std::string host = "127.0.0.1";  // IP literal without brackets, "localhost", "" = every interface
  std::uint16_t port = 9464;       // 0: a free port, see MetricsServer::port()
  std::size_t max_connections = 64;
  std::size_t max_request_bytes = 8 * 1024;
  std::chrono::milliseconds request_timeout{10'000};  // Prometheus' default scrape timeout
};

class MetricsServer {
 public:
  static Result<std::unique_ptr<MetricsServer>> Start(MetricsServerOptions options);
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  void Publish(std::string body);

  std::uint16_t port() const { return port_; }  // the bound port (useful with port 0)

 private:
  MetricsServer(MetricsServerOptions options, UniqueFd listen_fd, UniqueFd wake_fd,
                std::uint16_t port);
  std::shared_ptr<const std::string> Body() const;
  void Run();

  const MetricsServerOptions options_;
  UniqueFd listen_fd_;
  UniqueFd wake_fd_;  // eventfd: written by the destructor to stop Run()
  std::uint16_t port_;
  mutable std::mutex body_mutex_;
  std::shared_ptr<const std::string> body_;
  std::thread thread_;
};

}  // namespace waitscope::metrics
