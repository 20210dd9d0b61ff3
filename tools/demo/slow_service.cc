// slow_service: the bundled demo workload of the README's quick start.
//
// A toy request handler with the waits real backends have: each request
// queries a "database" over TCP (a local thread that answers after 20 ms),
// appends to a journal and fsyncs it, and updates a shared cache under a
// mutex that another thread keeps busy. Run it under `waitscope record` to see
// each of those waits, by class, target and function.
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

// The fake database: answers each 1-byte query after 20 ms.
__attribute__((noinline)) void DatabaseServer(int listener) {
  std::vector<std::thread> conns;
  while (!g_stop) {
    int c = accept(listener, nullptr, nullptr);
    if (c < 0) break;
    conns.emplace_back([c] {
      char q;
      while (read(c, &q, 1) == 1) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        if (write(c, "r", 1) != 1) break;
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

__attribute__((noinline)) void QueryOrders(int db) {
  char r;
  if (write(db, "q", 1) != 1 || read(db, &r, 1) != 1) std::exit(1);
}

__attribute__((noinline)) void AppendToJournal(int journal) {
  static const char kLine[] = "order accepted\n";
  if (write(journal, kLine, sizeof(kLine) - 1) < 0) std::exit(1);
  fsync(journal);
}

__attribute__((noinline)) void UpdateCache() {
  std::lock_guard<std::mutex> lock(g_cache_mutex);
}

__attribute__((noinline)) void HandleRequest(int db, int journal) {
  QueryOrders(db);
  AppendToJournal(journal);
  UpdateCache();
}

__attribute__((noinline)) void Worker(std::uint16_t port, const std::string& journal_path,
                                      Clock::time_point end, std::atomic<long>* served) {
  int db = ConnectToDatabase(port);
  int journal = open(journal_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  while (Clock::now() < end) {
    HandleRequest(db, journal);
    ++*served;
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
