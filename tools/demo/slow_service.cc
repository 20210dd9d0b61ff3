// slow_service: the bundled demo workload of the README's quick start.
//
// A toy request handler with the waits real backends have: each request
// looks an order up in a "database" over TCP (a local thread that speaks the
// Redis protocol, RESP, and answers after 20 ms; one lookup in four misses),
// appends to a journal and fsyncs it, and updates a shared cache under a
// mutex that another thread keeps busy. Run it under `waitscope record` to see
// each of those waits by class, target and function, and the lookups as
// statements (`GET order:?`) with their latency and cache hit ratio.
//
//   slow_service [SECONDS] [WORKERS]      (defaults: 5 seconds, 4 workers)
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

std::mutex g_cache_mutex;  // the contended lock of the demo
std::atomic<bool> g_stop{false};

// Every lookup is `GET order:NNNNNNN` in RESP: a fixed 33 bytes.
constexpr std::size_t kRequestBytes = 33;
constexpr char kHit[] = "$5\r\nalice\r\n";
constexpr char kMiss[] = "$-1\r\n";

bool ReadExactly(int fd, char* buf, std::size_t n) {
  std::size_t got = 0;
  while (got < n) {
    ssize_t r = read(fd, buf + got, n - got);
    if (r <= 0) return false;
    got += static_cast<std::size_t>(r);
  }
  return true;
}

// The fake database: answers each GET after 20 ms; order ids divisible by 4
// are not found (a null reply, which is a cache miss for waitscope).
__attribute__((noinline)) void DatabaseServer(int listener) {
  std::vector<std::thread> conns;
  while (!g_stop) {
    int c = accept(listener, nullptr, nullptr);
    if (c < 0) break;
    conns.emplace_back([c] {
      char req[kRequestBytes + 1] = {};
      while (ReadExactly(c, req, kRequestBytes)) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        const bool miss = std::atoi(req + 24) % 4 == 0;  // the 7 digits after "order:"
        const char* reply = miss ? kMiss : kHit;
        const std::size_t len = miss ? sizeof(kMiss) - 1 : sizeof(kHit) - 1;
        if (write(c, reply, len) != static_cast<ssize_t>(len)) break;
      }
      close(c);
    });
  }
  for (auto& t : conns) t.join();
}

__attribute__((noinline)) int ConnectToDatabase(std::uint16_t port) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(s, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    perror("connect");
    std::exit(1);
  }
  int one = 1;
  setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return s;
}

__attribute__((noinline)) void QueryOrders(int db, long order_id) {
  char req[64];
  std::snprintf(req, sizeof(req), "*2\r\n$3\r\nGET\r\n$13\r\norder:%07lu\r\n",
                static_cast<unsigned long>(order_id) % 10000000);
  if (write(db, req, kRequestBytes) != static_cast<ssize_t>(kRequestBytes)) std::exit(1);
  // A reply is complete at its last CRLF: one for a miss, two for a hit.
  char reply[16];
  std::size_t got = 0;
  int crlfs = 0;
  while (got < sizeof(reply)) {
    if (read(db, reply + got, 1) != 1) std::exit(1);
    if (reply[got] == '\n' && ++crlfs == (reply[1] == '-' ? 1 : 2)) break;
    ++got;
  }
}

__attribute__((noinline)) void AppendToJournal(int journal) {
  static const char kLine[] = "order accepted\n";
  if (write(journal, kLine, sizeof(kLine) - 1) < 0) std::exit(1);
  fsync(journal);
}

__attribute__((noinline)) void UpdateCache() {
  std::lock_guard<std::mutex> lock(g_cache_mutex);
}

__attribute__((noinline)) void HandleRequest(int db, int journal, long order_id) {
  QueryOrders(db, order_id);
  AppendToJournal(journal);
  UpdateCache();
}

__attribute__((noinline)) void Worker(std::uint16_t port, const std::string& journal_path,
                                      Clock::time_point end, std::atomic<long>* served) {
  int db = ConnectToDatabase(port);
  int journal = open(journal_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  while (Clock::now() < end) {
    HandleRequest(db, journal, served->fetch_add(1));
  }
  close(journal);
  close(db);
}

// Holds the cache lock for 15 ms out of every 20: the workers queue behind it.
__attribute__((noinline)) void CacheRebuilder(Clock::time_point end) {
  while (Clock::now() < end) {
    {
      std::lock_guard<std::mutex> lock(g_cache_mutex);
      auto until = Clock::now() + std::chrono::milliseconds(15);
      while (Clock::now() < until) {
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

}  // namespace

int main(int argc, char** argv) {
  const double seconds = argc > 1 ? std::atof(argv[1]) : 5.0;
  const int workers = argc > 2 ? std::atoi(argv[2]) : 4;
  if (seconds <= 0 || workers <= 0 || workers > 64) {
    std::fprintf(stderr, "usage: slow_service [SECONDS>0] [WORKERS 1..64]\n");
    return 2;
  }
  int listener = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      listen(listener, 64) != 0 ||
      getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len)) {
    perror("listen");
    return 1;
  }
  const std::uint16_t port = ntohs(addr.sin_port);
  std::string journal = "/var/tmp/slow_service." + std::to_string(getpid()) + ".journal";

  std::thread db(DatabaseServer, listener);
  const auto end = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                      std::chrono::duration<double>(seconds));
  std::atomic<long> served{0};
  std::thread rebuilder(CacheRebuilder, end);
  std::vector<std::thread> pool;
  for (int i = 0; i < workers; ++i) pool.emplace_back(Worker, port, journal, end, &served);
  for (auto& t : pool) t.join();
  rebuilder.join();
  g_stop = true;
  shutdown(listener, SHUT_RDWR);
  close(listener);
  db.join();
  unlink(journal.c_str());
  std::printf("slow_service: served %ld requests in %.1fs with %d workers (db on 127.0.0.1:%u)\n",
              served.load(), seconds, workers, port);
  return 0;
}
