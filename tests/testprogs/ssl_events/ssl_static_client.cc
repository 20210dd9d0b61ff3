// A minimal TLS client linked with OpenSSL statically, for
// tests/bpf/test_ssl_probe.py: the uprobes must find SSL_write in the
// executable itself. Usage: ssl_static_client PORT REQUEST
// Connects to 127.0.0.1:PORT (no certificate check: the test's self-signed
// server), sends REQUEST, prints everything the server sends until it closes.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: ssl_static_client PORT REQUEST\n");
    return 2;
  }
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(std::atoi(argv[1])));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    std::perror("connect");
    return 1;
  }
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL* ssl = SSL_new(ctx);
  SSL_set_fd(ssl, fd);
  if (SSL_connect(ssl) != 1) {
    ERR_print_errors_fp(stderr);
    return 1;
  }
  const std::size_t len = std::strlen(argv[2]);
  if (SSL_write(ssl, argv[2], static_cast<int>(len)) != static_cast<int>(len)) {
    ERR_print_errors_fp(stderr);
    return 1;
  }
  char buf[4096];
  int n;
  while ((n = SSL_read(ssl, buf, sizeof(buf))) > 0) std::fwrite(buf, 1, n, stdout);
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  close(fd);
  return 0;
}
