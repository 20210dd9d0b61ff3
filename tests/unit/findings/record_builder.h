// Builds RequestRecords the way request attribution produces them: a time
// cursor walks through the request, each step adding CPU time or a blocking
// wait (with the statement, connect or handshake span it belongs to), so the
// spans never overlap and cpu_ns + blocked time == duration, as in real records.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "findings/findings_engine.h"
#include "findings/request_record.h"

namespace waitscope::findings::testing {

inline constexpr std::uint64_t kMs = 1'000'000;
inline constexpr const char* kPg = "127.0.0.1:5432";

class RequestBuilder {
 public:
  RequestBuilder(std::string endpoint, std::uint64_t start_ns, std::uint32_t tid = 100,
                 std::uint32_t pid = 42) {
    r_.pid = pid;
    r_.tid = tid;
    r_.endpoint = std::move(endpoint);
    r_.status = 200;
    r_.start_ns = start_ns;
    cursor_ = start_ns;
  }

  RequestBuilder& Cpu(std::uint64_t ns) {
    cursor_ += ns;
    r_.cpu_ns += ns;
    return *this;
  }
  // Frames for the waits added after this call (root first).
  RequestBuilder& Stack(std::vector<std::string> names) {
    frames_.clear();
    for (auto& n : names) frames_.push_back(Frame{std::move(n), "/usr/bin/app"});
    return *this;
  }
  RequestBuilder& Query(const std::string& statement, std::uint64_t ns, std::uint64_t conn = 1,
                        const std::string& peer = kPg, const std::string& protocol = "postgres") {
    StatementSpan s{.protocol = protocol,
                    .peer = peer,
                    .statement = statement,
                    .conn_id = conn,
                    .start_ns = cursor_,
                    .end_ns = cursor_ + ns};
    r_.statements.push_back(s);
    const bool db = protocol == "postgres" || protocol == "mysql" || protocol == "redis";
    return AddWait(db ? WaitClass::kDb : WaitClass::kNet, "recvfrom", peer, ns, protocol,
                   statement);
  }
  RequestBuilder& Wait(WaitClass c, const std::string& syscall, const std::string& target,
                       std::uint64_t ns, const std::string& protocol = "") {
    return AddWait(c, syscall, target, ns, protocol, "");
  }
  RequestBuilder& Lock(std::uint64_t ns) { return Wait(WaitClass::kLock, "futex", "-", ns); }
  RequestBuilder& Connect(const std::string& peer, std::uint64_t conn, std::uint64_t ns) {
    r_.connects.push_back(
        ConnectSpan{.peer = peer, .conn_id = conn, .start_ns = cursor_, .latency_ns = ns});
    return Wait(WaitClass::kNet, "connect", peer, ns);
  }
  RequestBuilder& Handshake(const std::string& peer, const std::string& version, bool resumed,
                            std::uint64_t ns) {
    r_.tls.push_back(TlsSpan{.peer = peer,
                             .version = version,
                             .resumed = resumed,
                             .start_ns = cursor_,
                             .duration_ns = ns});
    return Wait(WaitClass::kTls, "read", peer, ns);
  }
  RequestBuilder& Status(int status) {
    r_.status = status;
    r_.error = status == 0 || status >= 500;
    return *this;
  }
  RequestBuilder& Unattributed() {
    r_.attributed = false;
    return *this;
  }
  std::uint64_t cursor() const { return cursor_; }

  RequestRecord Build() const {
    RequestRecord r = r_;
    r.end_ns = cursor_;
    if (!r.attributed) {
      r.cpu_ns = 0;
      r.statements.clear();
      r.waits.clear();
      r.connects.clear();
      r.tls.clear();
    }
    return r;
  }

 private:
  RequestBuilder& AddWait(WaitClass c, const std::string& syscall, const std::string& target,
                          std::uint64_t ns, const std::string& protocol,
                          const std::string& statement) {
    WaitSpan w;
    w.wait_class = c;
    w.syscall = syscall;
    w.target = target;
    w.protocol = protocol;
    w.statement = statement;
    w.start_ns = cursor_;
    w.end_ns = cursor_ + ns;
    w.blocked_ns = ns;
    w.frames = frames_;
    r_.waits.push_back(std::move(w));
    cursor_ += ns;
    return *this;
  }

  RequestRecord r_;
  std::uint64_t cursor_ = 0;
  std::vector<Frame> frames_;
};

inline std::vector<FindingRow> RunEngine(const std::vector<RequestRecord>& records,
                                         const DetectorConfig& config = {},
                                         const Report& report = {}, double duration_s = 60) {
  FindingsEngine engine(config);
  for (const RequestRecord& r : records) engine.AddRequest(r);
  return engine.Finish(report, duration_s);
}

inline std::vector<FindingRow> OfKind(const std::vector<FindingRow>& all, const std::string& kind) {
  std::vector<FindingRow> out;
  for (const FindingRow& f : all) {
    if (f.kind == kind) out.push_back(f);
  }
  return out;
}

inline nlohmann::json Evidence(const FindingRow& f) {
  return nlohmann::json::parse(f.evidence_json);
}

}  // namespace waitscope::findings::testing
