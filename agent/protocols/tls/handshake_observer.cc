#include "protocols/tls/handshake_observer.h"

#include <algorithm>
#include <limits>
#include <optional>
#include <utility>

#include "protocols/tls/hello.h"
#include "protocols/tls/record_stream.h"
#include "protocols/tls/wire.h"

namespace waitscope::protocols::tls {
namespace {

constexpr std::uint16_t kTls13 = 0x0304;
constexpr std::uint64_t kSkipAll = std::numeric_limits<std::uint64_t>::max();
constexpr std::uint8_t kAlertFatal = 2;
constexpr std::uint8_t kCloseNotify = 0;

// PostgreSQL SSLRequest: int32 length 8, int32 code 80877103.
constexpr std::string_view kPgSslRequest("\x00\x00\x00\x08\x04\xd2\x16\x2f", 8);
// MySQL SSL request: 3-byte length 32, sequence 1, capability flags with
// CLIENT_SSL (0x800), then max packet, charset and 23 zero bytes.
constexpr std::size_t kMysqlSslRequestBytes = 4 + 32;
constexpr std::uint32_t kMysqlClientSsl = 0x800;

bool IsMysqlSslRequest(std::string_view b) {
  if (b.size() < kMysqlSslRequestBytes) return false;
  auto u8 = [&](std::size_t i) {
    return static_cast<std::uint32_t>(static_cast<std::uint8_t>(b[i]));
  };
  if (u8(0) != 32 || u8(1) != 0 || u8(2) != 0 || u8(3) != 1) return false;
  const std::uint32_t caps = u8(4) | (u8(5) << 8) | (u8(6) << 16) | (u8(7) << 24);
  return (caps & kMysqlClientSsl) != 0;
}

}  // namespace

std::size_t TlsStartOffset(std::string_view b) {
  if (b.starts_with(kPgSslRequest)) return kPgSslRequest.size();
  if (IsMysqlSslRequest(b)) return kMysqlSslRequestBytes;
  return LooksLikeTlsClientHello(b) ? 0 : std::string_view::npos;
}

bool LooksLikeTlsClientHello(std::string_view b) {
  return b.size() >= 6 && ClientHelloStart(b) != Verdict::kNo;
}

class HandshakeObserver::Impl {
 public:
  Impl()
      : client_(RecordStream::Seek::kClientHello, this),
        server_(RecordStream::Seek::kServerStart, this) {}

  void OnData(Direction dir, std::string_view bytes, std::uint64_t ts) {
    if (stopped_ || bytes.empty()) return;
    // The server cannot speak TLS before the ClientHello: what it sends
    // before (MySQL greeting, PostgreSQL 'S') is the pre-TLS protocol.
    if (dir == Direction::kResponse && !started_) return;
    Side& s = side(dir);
    s.stream.Feed(bytes, ts, s);
    if (s.stream.gave_up() && !stopped_) OnGaveUp(s, ts);
  }

  void OnGap(Direction dir, std::uint64_t n) {
    if (stopped_ || n == 0) return;
    if (dir == Direction::kResponse && !started_) return;
    Side& s = side(dir);
    (void)s.stream.Gap(n, Skippable(s), s);
  }

  void OnClose(std::uint64_t ts) {
    if (stopped_) return;
    if (started_ && lost_bytes_) {
      Abandon();  // the close may follow records we never saw
      return;
    }
    if (started_) Fail(0, pending_alert_ ? pending_alert_ts_ : ts);
    stopped_ = true;
  }

  std::vector<Handshake> Take() { return std::exchange(done_, {}); }
  bool done() const { return stopped_; }
  const ParserStats& stats() const { return stats_; }

 private:
  // One direction: its record stream, the record being read, and the
  // reassembly of cleartext handshake messages (which may span records,
  // several per record).
  struct Side final : RecordSink {
    Side(RecordStream::Seek seek, Impl* o) : stream(seek, &o->stats_), owner(o) {}

    bool OnRecordStart(const RecordHeader& h, std::uint64_t ts) override {
      return owner->RecordStart(*this, h, ts);
    }
    bool OnRecordBody(std::string_view f, std::uint64_t ts) override {
      return owner->RecordBody(*this, f, ts);
    }
    bool OnBodySkipped(std::uint64_t n) override { return owner->BodySkipped(*this, n); }
    bool OnRecordEnd(std::uint64_t ts) override { return owner->RecordEnd(*this, ts); }
    bool OnFramingLost() override { return owner->FramingLost(*this); }

    RecordStream stream;
    Impl* owner;

    RecordHeader record;
    std::uint64_t record_ts = 0;
    std::uint64_t body_offset = 0;  // body bytes of `record` seen so far
    std::string alert;              // body of a cleartext alert record
    bool hello_done = false;        // this side's (real) hello decoded
    bool encrypted = false;         // TLS <= 1.2: after this side's ChangeCipherSpec
    bool finished = false;          // TLS <= 1.2: this side's Finished seen

    // Handshake message reassembly.
    std::string hs_header;  // < 4 bytes while incomplete
    std::uint8_t hs_type = 0;
    std::uint64_t hs_left = 0;
    bool hs_keep = false;        // a hello: its body is buffered for decoding
    bool messages_lost = false;  // framing was lost: cleartext messages are skipped
    std::string hs_body;
    std::uint64_t hs_start_ts = 0;
  };

  Side& side(Direction dir) { return dir == Direction::kRequest ? client_ : server_; }

  bool Cleartext22(const Side& s) const {
    return s.record.type == kHandshake && !s.encrypted && !s.messages_lost;
  }

  // Bytes of the current record body we would skip unread.
  std::uint64_t Skippable(const Side& s) const {
    switch (s.record.type) {
      case kChangeCipherSpec:
      case kApplicationData:
        return kSkipAll;
      case kAlert:
        return s.record.length == 2 ? 0 : kSkipAll;  // an encrypted alert's body is opaque
      case kHandshake:
        if (s.encrypted || s.messages_lost) return kSkipAll;
        return s.hs_header.size() == 4 && !s.hs_keep ? s.hs_left : 0;
      default:
        return 0;
    }
  }

  // The stream lost its framing (unabsorbed gap or bad header). Before this
  // side's hello is decoded the handshake cannot be told: give up. After
  // it, only record types matter (CCS, Finished, alerts, application data):
  // regain framing on the next plausible record and skip cleartext
  // messages from then on (a record found mid-message cannot be cut).
  bool FramingLost(Side& s) {
    if (stopped_) return false;
    if (!s.hello_done) return Abandon();
    lost_bytes_ = true;
    s.messages_lost = true;
    ResetMessage(s);
    s.record = RecordHeader{};
    return true;
  }

  void OnGaveUp(Side& s, std::uint64_t ts) {
    if (!started_) {
      stopped_ = true;  // never a ClientHello: not TLS
    } else if (&s == &server_ && s.stream.seek() == RecordStream::Seek::kServerStart) {
      Fail(0, ts);  // the server answered the ClientHello with something else
    } else {
      Abandon();
    }
  }

  static void ResetMessage(Side& s) {
    s.hs_header.clear();
    s.hs_left = 0;
    s.hs_keep = false;
    s.hs_body.clear();
  }

  // --- record events ---

  bool RecordStart(Side& s, const RecordHeader& h, std::uint64_t ts) {
    if (stopped_) return false;
    s.record = h;
    s.record_ts = ts;
    s.body_offset = 0;
    s.alert.clear();
    switch (h.type) {
      case kChangeCipherSpec:
        Flight(s);
        // Only up to TLS 1.2 does CCS switch the direction to encryption; in
        // 1.3 it is a compatibility no-op (also sent before a second hello).
        if (server_hello_seen_ && version_ < kTls13 && !s.encrypted) {
          s.encrypted = true;
          // The server changing cipher spec first is the abbreviated
          // (resumed) handshake: no Certificate, no key exchange.
          // After lost bytes the client's CCS may be the one we missed.
          if (&s == &server_ && !client_.encrypted && !lost_bytes_) current_.resumed = true;
        }
        return true;
      case kAlert:
        Flight(s);
        if (h.length != 2) return Fail(0, ts);  // encrypted alert (after CCS)
        return true;
      case kHandshake:
        Flight(s);
        if (s.encrypted && !s.finished) {  // the first record after CCS: Finished
          s.finished = true;
          return MaybeComplete12(ts);
        }
        return true;
      case kApplicationData:
        return ApplicationData(s, h, ts);
      default:
        return true;
    }
  }

  // Decided on the header, so a gap in the body cannot hide it.
  bool ApplicationData(Side& s, const RecordHeader& h, std::uint64_t ts) {
    if (!server_hello_seen_) return true;  // 0-RTT early data, or not ours to judge
    if (version_ < kTls13) {
      // Application data implies this side finished its handshake (a lost
      // CCS or Finished must not turn a working connection into a failure).
      s.finished = true;
      return MaybeComplete12(ts);
    }
    if (&s == &server_) {
      Flight(s);  // the server's encrypted handshake flight
      return true;
    }
    if (h.length >= HandshakeObserver::kMinFinishedRecordBytes) return Complete(ts);
    if (!pending_alert_) {
      pending_alert_ = true;
      pending_alert_ts_ = ts;
    }
    return true;
  }

  bool RecordBody(Side& s, std::string_view f, std::uint64_t ts) {
    if (stopped_) return false;
    if (s.record.type == kAlert && s.record.length == 2) {
      s.alert.append(f.substr(0, 2 - std::min<std::size_t>(2, s.alert.size())));
    } else if (Cleartext22(s)) {
      if (!FeedMessages(s, f, ts)) return false;
    }
    s.body_offset += f.size();
    return !stopped_;
  }

  bool BodySkipped(Side& s, std::uint64_t n) {
    if (stopped_) return false;
    if (Cleartext22(s)) {
      s.hs_left -= std::min(s.hs_left, n);
      if (s.hs_header.size() == 4 && s.hs_left == 0) ResetMessage(s);
    }
    s.body_offset += n;
    return true;
  }

  bool RecordEnd(Side& s, std::uint64_t ts) {
    if (stopped_) return false;
    switch (s.record.type) {
      case kAlert: {
        if (s.alert.size() < 2) return true;
        const auto level = static_cast<std::uint8_t>(s.alert[0]);
        const auto desc = static_cast<std::uint8_t>(s.alert[1]);
        // A warning other than close_notify (e.g. unrecognized_name) does
        // not end a handshake.
        if (level == kAlertFatal || desc == kCloseNotify) return Fail(desc, ts);
        return true;
      }
      default:
        return true;
    }
  }

  // Cuts cleartext handshake records into messages; decodes the hellos.
  bool FeedMessages(Side& s, std::string_view f, std::uint64_t ts) {
    std::size_t pos = 0;
    while (pos < f.size()) {
      if (s.hs_header.size() < 4) {
        if (s.hs_header.empty()) s.hs_start_ts = s.body_offset + pos == 0 ? s.record_ts : ts;
        const std::size_t take = std::min(4 - s.hs_header.size(), f.size() - pos);
        s.hs_header.append(f.substr(pos, take));
        pos += take;
        if (s.hs_header.size() < 4) return true;
        auto u8 = [&](std::size_t i) { return static_cast<std::uint8_t>(s.hs_header[i]); };
        s.hs_type = u8(0);
        s.hs_left = (std::uint64_t{u8(1)} << 16) | (std::uint64_t{u8(2)} << 8) | u8(3);
        const bool hello = (&s == &client_ && s.hs_type == kHandshakeClientHello) ||
                           (&s == &server_ && s.hs_type == kHandshakeServerHello);
        s.hs_keep = hello && s.hs_left <= HandshakeObserver::kMaxHelloBytes;
        if (hello && !s.hs_keep) {
          ++stats_.parse_errors;  // oversized hello: timed, not decoded
          if (&s == &server_) return Abandon();
          OnClientHello(std::nullopt, s.hs_start_ts);
        }
      } else {
        const std::size_t n =
            static_cast<std::size_t>(std::min<std::uint64_t>(s.hs_left, f.size() - pos));
        if (s.hs_keep) s.hs_body.append(f.substr(pos, n));
        s.hs_left -= n;
        pos += n;
      }
      if (s.hs_header.size() == 4 && s.hs_left == 0) {
        if (s.hs_keep && !MessageDone(s)) return false;
        ResetMessage(s);
      }
    }
    return !stopped_;
  }

  bool MessageDone(Side& s) {
    if (&s == &client_) {
      auto hello = ParseClientHello(s.hs_body);
      if (!hello) ++stats_.parse_errors;
      OnClientHello(hello, s.hs_start_ts);
      return !stopped_;
    }
    auto hello = ParseServerHello(s.hs_body);
    if (!hello) return Abandon();
    return OnServerHello(*hello);
  }

  void OnClientHello(const std::optional<ClientHelloInfo>& hello, std::uint64_t ts) {
    if (!started_) {
      started_ = true;
      current_.start_ns = ts;
    } else if (retry_pending_) {
      retry_pending_ = false;  // the second ClientHello, after HelloRetryRequest
    } else {
      ++stats_.parse_errors;  // a ClientHello nobody asked for
      return;
    }
    client_.hello_done = true;
    if (hello) {
      if (current_.sni.empty()) current_.sni = hello->sni;
      client_session_id_ = hello->session_id;
    }
  }

  bool OnServerHello(const ServerHelloInfo& hello) {
    if (server_hello_seen_) {
      ++stats_.parse_errors;
      return true;
    }
    version_ = hello.version;
    if (hello.hello_retry) {
      current_.hello_retry = true;
      retry_pending_ = true;
      return true;
    }
    server_hello_seen_ = true;
    server_.hello_done = true;
    if (version_ >= kTls13) {
      current_.resumed = hello.psk_accepted;
    } else if (!hello.session_id.empty() && hello.session_id == client_session_id_) {
      current_.resumed = true;
    }
    return true;
  }

  // Counts a round trip when a server record answers a client flight.
  void Flight(const Side& s) {
    if (&s == &client_) {
      awaiting_server_ = true;
    } else if (awaiting_server_) {
      ++current_.round_trips;
      awaiting_server_ = false;
    }
  }

  bool MaybeComplete12(std::uint64_t ts) {
    if (client_.finished && server_.finished) return Complete(ts);
    return true;
  }

  bool Complete(std::uint64_t ts) {
    current_.version = VersionName(version_);
    current_.end_ns = ts;
    done_.push_back(std::move(current_));
    stopped_ = true;
    return false;
  }

  bool Fail(std::uint8_t alert, std::uint64_t ts) {
    if (!started_) {
      stopped_ = true;
      return false;
    }
    current_.version = server_hello_seen_ ? VersionName(version_) : "unknown";
    current_.failed = true;
    current_.alert = alert;
    current_.end_ns = ts;
    done_.push_back(std::move(current_));
    stopped_ = true;
    return false;
  }

  // The handshake cannot be measured (its hellos or framing were lost): one
  // parse error, nothing reported, the caller may stop feeding.
  bool Abandon() {
    ++stats_.parse_errors;
    stopped_ = true;
    return false;
  }

  ParserStats stats_;
  Side client_;
  Side server_;
  Handshake current_;
  std::vector<Handshake> done_;
  std::string client_session_id_;
  std::uint16_t version_ = 0;
  bool started_ = false;            // ClientHello seen
  bool server_hello_seen_ = false;  // the real ServerHello (not an HRR)
  bool retry_pending_ = false;      // HRR seen, waiting for the second ClientHello
  bool awaiting_server_ = false;    // a client flight waits for the server
  bool pending_alert_ = false;      // TLS 1.3: short encrypted client record
  std::uint64_t pending_alert_ts_ = 0;
  bool lost_bytes_ = false;  // framing was regained after a loss
  bool stopped_ = false;
};

HandshakeObserver::HandshakeObserver() : impl_(std::make_unique<Impl>()) {}
HandshakeObserver::~HandshakeObserver() = default;
HandshakeObserver::HandshakeObserver(HandshakeObserver&&) noexcept = default;
HandshakeObserver& HandshakeObserver::operator=(HandshakeObserver&&) noexcept = default;

void HandshakeObserver::OnData(Direction dir, std::string_view bytes, std::uint64_t ts_ns) {
  impl_->OnData(dir, bytes, ts_ns);
}
void HandshakeObserver::OnGap(Direction dir, std::uint64_t missing_bytes) {
  impl_->OnGap(dir, missing_bytes);
}
void HandshakeObserver::OnClose(std::uint64_t ts_ns) {
  impl_->OnClose(ts_ns);
}
std::vector<Handshake> HandshakeObserver::TakeHandshakes() {
  return impl_->Take();
}
bool HandshakeObserver::HandshakeDone() const {
  return impl_->done();
}
const ParserStats& HandshakeObserver::stats() const {
  return impl_->stats();
}

}  // namespace waitscope::protocols::tls
