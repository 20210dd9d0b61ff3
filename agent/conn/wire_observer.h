// What the connection tracker tells listeners beyond the aggregate tables:
// each exchange with the thread that completed it, and each client
// connection at its first use. Request attribution (agent/findings) is the
// listener; the tracker works without one.
#pragma once

#include <cstdint>
#include <string>

#include "aggregate/wire_aggregator.h"
#include "protocols/common/exchange.h"
#include "protocols/tls/handshake_observer.h"

namespace waitscope {

// The first bytes of a client connection opened while recording: the thread
// that sent them owns the connection at that time (it connected or took it
// from a pool).
struct ClientConnectionUse {
  std::uint32_t pid = 0;
  std::uint32_t tid = 0;
  std::uint64_t conn_id = 0;
  std::string peer;
  std::string protocol;
  std::uint64_t opened_ns = 0;   // connect() returned
  std::uint64_t connect_ns = 0;  // SYN_SENT -> ESTABLISHED when known, else 0
};

class WireObserver {
 public:
  virtual ~WireObserver() = default;
  // `origin.tid` is the thread whose syscall completed the exchange: for a
  // server, the one that wrote the response; for a client, the one that read it.
  virtual void OnExchange(const ExchangeOrigin& origin, const protocols::Exchange& exchange) = 0;
  virtual void OnClientConnectionUse(const ClientConnectionUse& use) = 0;
  // A TLS handshake finished or failed; `origin.tid` as for exchanges.
  virtual void OnTlsHandshake(const ExchangeOrigin& /*origin*/,
                              const protocols::tls::Handshake& /*handshake*/) {}
};

}  // namespace waitscope
