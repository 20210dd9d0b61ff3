// A scripted HTTP/1.1 server on 127.0.0.1 for the sender tests: it records
// every request and answers each with the next scripted response (200 when the
// script is empty), closing the connection after each answer. Runs on its own
// thread; all methods are thread-safe.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace waitscope::otlp::testing {

struct RecordedRequest {
  std::string method;
  std::string target;                          // path and query
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
};

struct ScriptedResponse {
  int status = 200;
  std::string extra_headers;  // "Retry-After: 0\r\n"
  std::string body;
};

class TestHttpServer {
 public:
  // port 0: any free port.
  explicit TestHttpServer(int port = 0) {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    ok_ = bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 && listen(fd_, 16) == 0;
    socklen_t len = sizeof(addr);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    if (ok_) thread_ = std::thread([this] { Serve(); });
  }
  ~TestHttpServer() {
    shutdown(fd_, SHUT_RDWR);
    if (thread_.joinable()) thread_.join();
    close(fd_);
  }

  bool ok() const { return ok_; }
  int port() const { return port_; }
  std::string Url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

  void Script(std::vector<ScriptedResponse> responses) {
    std::lock_guard lock(mu_);
    for (auto& r : responses) script_.push_back(std::move(r));
  }

  std::vector<RecordedRequest> Requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }

  // Waits until at least `n` requests arrived.
  bool WaitForRequests(std::size_t n, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return requests_.size() >= n; });
  }

 private:
  void Serve() {
    while (true) {
      const int conn = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (conn < 0) return;  // shut down
      Handle(conn);
      close(conn);
    }
  }

  static bool ReadMore(int conn, std::string& buf) {
    char chunk[4096];
    const ssize_t n = read(conn, chunk, sizeof(chunk));
    if (n <= 0) return false;
    buf.append(chunk, static_cast<std::size_t>(n));
    return true;
  }

  void Handle(int conn) {
    std::string buf;
    std::size_t head_end;
    while ((head_end = buf.find("\r\n\r\n")) == std::string::npos) {
      if (!ReadMore(conn, buf)) return;
    }
    RecordedRequest req;
    std::size_t line_end = buf.find("\r\n");
    const std::string first = buf.substr(0, line_end);
    const auto sp1 = first.find(' ');
    const auto sp2 = first.find(' ', sp1 + 1);
    req.method = first.substr(0, sp1);
    req.target = first.substr(sp1 + 1, sp2 - sp1 - 1);
    std::size_t pos = line_end + 2;
    while (pos < head_end) {
      const std::size_t eol = buf.find("\r\n", pos);
      const std::string line = buf.substr(pos, eol - pos);
      const auto colon = line.find(':');
      std::string name = line.substr(0, colon);
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      std::string value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      req.headers[name] = value;
      pos = eol + 2;
    }
    const std::size_t length =
        req.headers.count("content-length") ? std::stoul(req.headers["content-length"]) : 0;
    while (buf.size() < head_end + 4 + length) {
      if (!ReadMore(conn, buf)) return;
    }
    req.body = buf.substr(head_end + 4, length);

    ScriptedResponse response;
    {
      std::lock_guard lock(mu_);
      if (!script_.empty()) {
        response = script_.front();
        script_.pop_front();
      }
    }
    const std::string out = "HTTP/1.1 " + std::to_string(response.status) +
                            " Scripted\r\nContent-Length: " + std::to_string(response.body.size()) +
                            "\r\nConnection: close\r\n" + response.extra_headers + "\r\n" +
                            response.body;
    // Record before answering, so a client that saw the answer also sees the record.
    {
      std::lock_guard lock(mu_);
      requests_.push_back(std::move(req));
    }
    cv_.notify_all();
    (void)!write(conn, out.data(), out.size());
  }

  int fd_ = -1;
  int port_ = 0;
  bool ok_ = false;
  std::thread thread_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<ScriptedResponse> script_;
  std::vector<RecordedRequest> requests_;
};

}  // namespace waitscope::otlp::testing
