#include "metrics/metrics_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "metrics/metrics_http.h"

namespace waitscope::metrics {
namespace {

// Blocking client sockets with a receive timeout, so a server bug fails the
// test instead of hanging it. No test asserts on time.
UniqueFd Connect(std::uint16_t port, int family = AF_INET) {
  UniqueFd fd(socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0));
  EXPECT_TRUE(fd.valid());
  timeval tv{10, 0};
  setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  int rc;
  if (family == AF_INET6) {
    sockaddr_in6 addr{};
    addr.sin6_family = AF_INET6;
    addr.sin6_port = htons(port);
    addr.sin6_addr = in6addr_loopback;
    rc = connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  } else {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    rc = connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  }
  EXPECT_EQ(rc, 0) << std::strerror(errno);
  return fd;
}

void SendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    ASSERT_GT(n, 0) << std::strerror(errno);
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

// Everything until the server closes (or the 10 s safety timeout).
std::string ReadAll(int fd) {
  std::string out;
  char buf[4096];
  for (;;) {
    const ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

std::string Exchange(std::uint16_t port, std::string_view request, int family = AF_INET) {
  UniqueFd fd = Connect(port, family);
  SendAll(fd.get(), request);
  return ReadAll(fd.get());
}

std::string BodyOf(const std::string& response) {
  const std::size_t end = response.find("\r\n\r\n");
  return end == std::string::npos ? "" : response.substr(end + 4);
}

// Whether a plain socket can bind ::1 (containers often run without IPv6).
bool HasIpv6Loopback() {
  UniqueFd fd(socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) return false;
  sockaddr_in6 addr{};
  addr.sin6_family = AF_INET6;
  addr.sin6_addr = in6addr_loopback;
  return bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0;
}

std::unique_ptr<MetricsServer> StartOnFreePort(MetricsServerOptions options = {}) {
  options.port = 0;
  Result<std::unique_ptr<MetricsServer>> server = MetricsServer::Start(std::move(options));
  EXPECT_TRUE(server.ok()) << (server.ok() ? "" : server.error().message);
  return server.ok() ? std::move(*server) : nullptr;
}

TEST(MetricsServer, ServesThePublishedBody) {
  auto server = StartOnFreePort();
  ASSERT_NE(server, nullptr);
  const std::string before = Exchange(server->port(), "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_TRUE(before.starts_with("HTTP/1.1 200 OK\r\n")) << before;
  EXPECT_EQ(BodyOf(before), "");

  server->Publish("# TYPE up gauge\nup 1\n");
  const std::string r =
      Exchange(server->port(), "GET /metrics?name[]=up HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_TRUE(r.starts_with("HTTP/1.1 200 OK\r\n")) << r;
  EXPECT_NE(r.find("Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"),
            std::string::npos);
  EXPECT_NE(r.find("Content-Length: 21\r\n"), std::string::npos) << r;
  EXPECT_NE(r.find("Connection: close\r\n"), std::string::npos);
  EXPECT_EQ(BodyOf(r), "# TYPE up gauge\nup 1\n");

  server->Publish("up 2\n");
  EXPECT_EQ(BodyOf(Exchange(server->port(), "GET /metrics HTTP/1.0\n\n")), "up 2\n");
}

TEST(MetricsServer, LargeBodyArrivesWhole) {
  auto server = StartOnFreePort();
  ASSERT_NE(server, nullptr);
  std::string big;
  for (int i = 0; big.size() < 4 * 1024 * 1024; ++i)
    big += "m{i=\"" + std::to_string(i) + "\"} 1\n";
  server->Publish(big);
  EXPECT_EQ(BodyOf(Exchange(server->port(), "GET /metrics HTTP/1.1\r\n\r\n")), big);
}

TEST(MetricsServer, OtherPathsAndMethods) {
  auto server = StartOnFreePort();
  ASSERT_NE(server, nullptr);
  server->Publish("up 1\n");
  const std::string not_found = Exchange(server->port(), "GET / HTTP/1.1\r\n\r\n");
  EXPECT_TRUE(not_found.starts_with("HTTP/1.1 404 Not Found\r\n")) << not_found;
  const std::string post =
      Exchange(server->port(), "POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
  EXPECT_TRUE(post.starts_with("HTTP/1.1 405 Method Not Allowed\r\n")) << post;
  EXPECT_NE(post.find("Allow: GET, HEAD\r\n"), std::string::npos);
  const std::string head = Exchange(server->port(), "HEAD /metrics HTTP/1.1\r\n\r\n");
  EXPECT_TRUE(head.starts_with("HTTP/1.1 200 OK\r\n")) << head;
  EXPECT_NE(head.find("Content-Length: 5\r\n"), std::string::npos);
  EXPECT_EQ(BodyOf(head), "");
  const std::string garbage = Exchange(server->port(), "hello\r\n\r\n");
  EXPECT_TRUE(garbage.starts_with("HTTP/1.1 400 Bad Request\r\n")) << garbage;
}

TEST(MetricsServer, OversizedRequestIsRejected) {
  auto server = StartOnFreePort();
  ASSERT_NE(server, nullptr);
  const std::string huge = "GET /metrics HTTP/1.1\r\nX-Fill: " + std::string(20000, 'a');
  const std::string r = Exchange(server->port(), huge);
  EXPECT_TRUE(r.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n")) << r;
}

TEST(MetricsServer, SlowClientIsClosedAtItsDeadline) {
  MetricsServerOptions options;
  options.request_timeout = std::chrono::milliseconds(50);
  auto server = StartOnFreePort(options);
  ASSERT_NE(server, nullptr);
  UniqueFd fd = Connect(server->port());
  SendAll(fd.get(), "GET /met");  // and never the rest
  char c;
  errno = 0;
  EXPECT_LE(recv(fd.get(), &c, 1, 0), 0);  // closed by the server, not by our 10 s timeout
  EXPECT_NE(errno, EAGAIN);
}

TEST(MetricsServer, ConnectionsBeyondTheCapWaitTheirTurn) {
  MetricsServerOptions options;
  options.max_connections = 2;
  auto server = StartOnFreePort(options);
  ASSERT_NE(server, nullptr);
  server->Publish("up 1\n");
  std::vector<UniqueFd> clients;
  for (int i = 0; i < 8; ++i) {
    clients.push_back(Connect(server->port()));
    SendAll(clients.back().get(), "GET /metrics HTTP/1.1\r\n\r\n");
  }
  for (UniqueFd& fd : clients) {
    EXPECT_EQ(BodyOf(ReadAll(fd.get())), "up 1\n");
    fd.Reset();  // frees the slot for the next one
  }
}

TEST(MetricsServer, AddressInUse) {
  auto first = StartOnFreePort();
  ASSERT_NE(first, nullptr);
  MetricsServerOptions options;
  options.port = first->port();
  Result<std::unique_ptr<MetricsServer>> second = MetricsServer::Start(options);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().message, "cannot listen on 127.0.0.1:" + std::to_string(first->port()) +
                                        ": Address already in use");
}

TEST(MetricsServer, UnresolvableHostIsAnError) {
  MetricsServerOptions options;
  options.host = "256.1.1.1";
  options.port = 0;
  Result<std::unique_ptr<MetricsServer>> server = MetricsServer::Start(options);
  ASSERT_FALSE(server.ok());
  EXPECT_TRUE(server.error().message.starts_with("cannot listen on 256.1.1.1:0: "))
      << server.error().message;
}

TEST(MetricsServer, Ipv6Loopback) {
  MetricsServerOptions options;
  options.host = "::1";
  options.port = 0;
  // Skip only when this machine has no ::1; a machine that has it and a
  // server that cannot bind it is a failure.
  if (!HasIpv6Loopback()) GTEST_SKIP() << "no IPv6 loopback (::1) on this machine";
  Result<std::unique_ptr<MetricsServer>> server = MetricsServer::Start(options);
  ASSERT_TRUE(server.ok()) << server.error().message;
  (*server)->Publish("up 1\n");
  EXPECT_EQ(BodyOf(Exchange((*server)->port(), "GET /metrics HTTP/1.1\r\n\r\n", AF_INET6)),
            "up 1\n");
}

TEST(MetricsHttp, RequestHeadEnd) {
  EXPECT_EQ(RequestHeadEnd("GET / HTTP/1.1\r\nHost: x\r\n"), 0u);
  EXPECT_EQ(RequestHeadEnd("GET / HTTP/1.1\r\n\r\nrest"), 18u);
  EXPECT_EQ(RequestHeadEnd("GET / HTTP/1.0\n\n"), 16u);
}

TEST(MetricsHttp, Routing) {
  EXPECT_EQ(RouteRequest("GET /metrics HTTP/1.1\r\n\r\n", 3).status, 200);
  EXPECT_EQ(RouteRequest("GET /metrics/ HTTP/1.1\r\n\r\n", 3).status, 404);
  EXPECT_EQ(RouteRequest("DELETE /metrics HTTP/1.1\r\n\r\n", 3).status, 405);
  EXPECT_EQ(RouteRequest("GET /metrics SPDY/3\r\n\r\n", 3).status, 400);
  EXPECT_EQ(RouteRequest("GET\r\n\r\n", 3).status, 400);
  EXPECT_EQ(TooLargeResponse().status, 431);
}

}  // namespace
}  // namespace waitscope::metrics
