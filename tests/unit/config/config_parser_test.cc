// waitscope.yaml parsing: the packaged default, every error kind with its
// file:line:column, and the values each section accepts.
#include "config/config_parser.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "pem_files.h"

namespace waitscope::config {
namespace {

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Turns "  # key: value" lines into "  key: value": the packaged file writes
// the settings an OTEL_* variable can set that way. (No std::regex: GCC 12
// warns inside it under the sanitizers.)
std::string Uncomment(const std::string& text) {
  std::stringstream in(text);
  std::string out;
  for (std::string line; std::getline(in, line);) {
    const std::size_t hash = line.find_first_not_of(' ');
    std::size_t end = hash == std::string::npos ? 0 : hash + 2;
    if (hash != std::string::npos && line.compare(hash, 2, "# ") == 0) {
      while (end < line.size() && (std::islower(static_cast<unsigned char>(line[end])) ||
                                   std::isdigit(static_cast<unsigned char>(line[end])) ||
                                   line[end] == '_' || line[end] == '.')) {
        ++end;
      }
      if (end > hash + 2 && end < line.size() && line[end] == ':' &&
          (end + 1 == line.size() || line[end + 1] == ' ')) {
        line.erase(hash, 2);
      }
    }
    out += line + "\n";
  }
  return out;
}

std::string ErrorOf(const std::string& yaml, const Environment& env = {}) {
  Result<AgentConfig> config = ParseAgentConfig(yaml, "waitscope.yaml", env);
  if (config.ok()) return "(parsed)";
  return config.error().message;
}

// The docs name a key in backquotes, alone or as part of a dotted path.
bool DocMentions(const std::string& docs, const std::string& key) {
  for (std::size_t at = docs.find(key); at != std::string::npos; at = docs.find(key, at + 1)) {
    const std::size_t after = at + key.size();
    if (at > 0 && (docs[at - 1] == '`' || docs[at - 1] == '.') && after < docs.size() &&
        (docs[after] == '`' || docs[after] == '.')) {
      return true;
    }
  }
  return false;
}

bool SameFindings(const findings::DetectorConfig& a, const findings::DetectorConfig& b) {
  // Only 8-byte fields, so no padding: bytewise equality is value equality.
  return std::memcmp(&a, &b, sizeof a) == 0;
}

TEST(PackagedConfig, ParsesToTheDefaults) {
  Result<AgentConfig> config = LoadAgentConfig(PACKAGED_CONFIG, {});
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_TRUE(config->SameSettings(AgentConfig{}));
  EXPECT_TRUE(config->warnings.empty());
  EXPECT_EQ(config->source, PACKAGED_CONFIG);
}

TEST(PackagedConfig, CommentedOutSettingsShowTheirDefaults) {
  const std::string text = Uncomment(ReadText(PACKAGED_CONFIG));
  ASSERT_NE(text.find("\nwindow: 60s"), std::string::npos);
  ASSERT_NE(text.find("\n  min_requests: 5"), std::string::npos);
  Result<AgentConfig> config = ParseAgentConfig(text, "uncommented.yaml", {});
  ASSERT_TRUE(config.ok()) << config.error().message;
  AgentConfig defaults;
  EXPECT_EQ(config->targets, defaults.targets);
  EXPECT_EQ(config->capture, defaults.capture);
  EXPECT_EQ(config->window_ns, defaults.window_ns);
  EXPECT_EQ(config->limits, defaults.limits);
  EXPECT_EQ(config->exports, defaults.exports);
  EXPECT_EQ(config->spool, defaults.spool);
  EXPECT_EQ(config->log_level, defaults.log_level);
  EXPECT_EQ(config->finding_overrides.size(), findings::DetectorOptionKeys().size());
  EXPECT_TRUE(SameFindings(config->findings, defaults.findings));
}

TEST(PackagedConfig, EveryKeyIsInTheFileAndTheDocs) {
  const std::string file = Uncomment(ReadText(PACKAGED_CONFIG));
  const std::string docs = ReadText(CONFIG_DOC);
  ASSERT_FALSE(docs.empty());
  for (const char* key : {"targets",
                          "include",
                          "exclude",
                          "comm",
                          "exe",
                          "cgroup",
                          "unit",
                          "capture",
                          "capture_bytes",
                          "capture_values",
                          "min_block",
                          "window",
                          "limits",
                          "max_processes",
                          "max_connections",
                          "max_statements",
                          "max_stacks",
                          "exports",
                          "prometheus",
                          "enabled",
                          "listen",
                          "allow_public",
                          "otlp",
                          "endpoint",
                          "metrics_endpoint",
                          "logs_endpoint",
                          "headers",
                          "compression",
                          "timeout",
                          "tls",
                          "ca_file",
                          "cert_file",
                          "key_file",
                          "insecure_skip_verify",
                          "resource_attributes",
                          "service_name",
                          "pyroscope",
                          "url",
                          "app_name",
                          "files",
                          "dir",
                          "max_bytes",
                          "keep",
                          "spool",
                          "findings",
                          "log_level"}) {
    EXPECT_NE(file.find(std::string(key) + ":"), std::string::npos) << key;
    EXPECT_TRUE(DocMentions(docs, key)) << key;
  }
  for (const std::string& key : findings::DetectorOptionKeys()) {
    EXPECT_NE(file.find(key + ":"), std::string::npos) << key;
    EXPECT_TRUE(DocMentions(docs, key)) << key;
  }
}

TEST(ParseAgentConfig, EmptyTextIsTheDefaults) {
  Result<AgentConfig> config = ParseAgentConfig("", "waitscope.yaml", {});
  ASSERT_TRUE(config.ok());
  EXPECT_TRUE(config->SameSettings(AgentConfig{}));
  EXPECT_EQ(config->exports.otlp.metrics_url, "http://localhost:4318/v1/metrics");
  EXPECT_EQ(config->exports.otlp.logs_url, "http://localhost:4318/v1/logs");
}

TEST(ParseAgentConfig, NullValuesKeepTheDefault) {
  Result<AgentConfig> config =
      ParseAgentConfig("window:\ntargets:\n  include:\nexports:\n", "w.yaml", {});
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_TRUE(config->SameSettings(AgentConfig{}));
}

TEST(ParseAgentConfig, ReadsEverySection) {
  const char* yaml = R"(
targets:
  include:
    - comm: "postgres*"
    - {exe: "/usr/bin/python3*", cgroup: /system.slice/}
    - unit: nginx
  exclude:
    - unit: user@1000.service
capture: {capture_bytes: 0, capture_values: yes, min_block: 250us}
window: 15s
limits: {max_processes: 10, max_connections: 20, max_statements: 30, max_stacks: 40}
exports:
  prometheus: {enabled: false, listen: "[::1]:9100"}
  otlp:
    enabled: true
    endpoint: https://otel.example:4318/base
    headers: {Authorization: Bearer abc}
    compression: none
    timeout: 2s
    tls: {insecure_skip_verify: true}
    resource_attributes: {deployment.environment: prod}
    service_name: checkout-host
  pyroscope: {enabled: true, url: "http://pyro:4040", app_name: my.app, timeout: 3s,
              tls: {insecure_skip_verify: true}}
  files: {enabled: true, dir: /tmp/ws, max_bytes: 64MiB, keep: 5}
spool: {dir: /tmp/spool, max_bytes: 0}
findings:
  n_plus_one:
    min_repeats: 3
  slow_query.p95_ms: 250
log_level: debug
)";
  Result<AgentConfig> r = ParseAgentConfig(yaml, "full.yaml", {});
  ASSERT_TRUE(r.ok()) << r.error().message;
  const AgentConfig& c = *r;
  ASSERT_EQ(c.targets.include.size(), 3u);
  EXPECT_EQ(c.targets.include[0].comm, "postgres*");
  EXPECT_EQ(c.targets.include[1].exe, "/usr/bin/python3*");
  EXPECT_EQ(c.targets.include[1].cgroup, "/system.slice/");
  EXPECT_EQ(c.targets.include[2].unit, "nginx.service");
  ASSERT_EQ(c.targets.exclude.size(), 1u);
  EXPECT_EQ(c.targets.exclude[0].unit, "user@1000.service");
  EXPECT_EQ(c.capture.capture_bytes, 0u);
  EXPECT_TRUE(c.capture.capture_values);
  EXPECT_EQ(c.capture.min_block_ns, 250'000u);
  EXPECT_EQ(c.window_ns, 15'000'000'000u);
  EXPECT_EQ(c.limits, (LimitsConfig{10, 20, 30, 40}));
  EXPECT_FALSE(c.exports.prometheus.enabled);
  EXPECT_EQ(c.exports.prometheus.listen, "[::1]:9100");
  const OtlpConfig& otlp = c.exports.otlp;
  EXPECT_TRUE(otlp.enabled);
  EXPECT_EQ(otlp.metrics_url, "https://otel.example:4318/base/v1/metrics");
  EXPECT_EQ(otlp.logs_url, "https://otel.example:4318/base/v1/logs");
  EXPECT_EQ(otlp.headers.at("Authorization"), "Bearer abc");
  EXPECT_FALSE(otlp.gzip);
  EXPECT_EQ(otlp.timeout_ns, 2'000'000'000u);
  EXPECT_TRUE(otlp.tls.insecure_skip_verify);
  EXPECT_EQ(otlp.service_name, "checkout-host");
  EXPECT_EQ(otlp.resource_attributes,
            (std::map<std::string, std::string>{{"deployment.environment", "prod"},
                                                {"service.name", "checkout-host"}}));
  EXPECT_TRUE(c.exports.pyroscope.enabled);
  EXPECT_EQ(c.exports.pyroscope.url, "http://pyro:4040");
  EXPECT_EQ(c.exports.pyroscope.app_name, "my.app");
  EXPECT_TRUE(c.exports.pyroscope.tls.insecure_skip_verify);
  EXPECT_EQ(c.exports.files, (FilesConfig{true, "/tmp/ws", 64ULL << 20, 5}));
  EXPECT_EQ(c.spool, (SpoolConfig{"/tmp/spool", 0}));
  EXPECT_EQ(c.findings.n_plus_one_min_repeats, 3u);
  EXPECT_EQ(c.findings.slow_query_p95_ms, 250);
  EXPECT_EQ(c.finding_overrides.size(), 2u);
  EXPECT_EQ(c.log_level, LogLevel::kDebug);
}

TEST(ParseAgentConfig, UnknownKeySuggestsTheClosest) {
  EXPECT_EQ(ErrorOf("log_level: info\nexprots:\n  prometheus: {}\n"),
            "waitscope.yaml:2:1: unknown key 'exprots' at the top level (did you mean 'exports'?)");
  EXPECT_EQ(ErrorOf("exports:\n  prometeus:\n    enabled: true\n"),
            "waitscope.yaml:2:3: unknown key 'prometeus' under 'exports' (did you mean "
            "'prometheus'?)");
  EXPECT_EQ(ErrorOf("targets:\n  include:\n    - comm: x\n      pid: 3\n"),
            "waitscope.yaml:4:7: unknown key 'pid' under 'targets.include[0]' (known keys: comm, "
            "exe, cgroup, unit)");
  EXPECT_EQ(ErrorOf("findings:\n  n_plus_one.min_repeat: 3\n"),
            "waitscope.yaml:2:3: unknown key 'n_plus_one.min_repeat' under 'findings' (did you "
            "mean 'n_plus_one.min_repeats'?)");
}

TEST(ParseAgentConfig, WrongTypesNameTheSettingAndThePlace) {
  EXPECT_EQ(ErrorOf("window: soon\n"),
            "waitscope.yaml:1:9: 'window' must be a duration like 60s, got 'soon'");
  EXPECT_EQ(ErrorOf("window: 60\n"),
            "waitscope.yaml:1:9: 'window' must be a duration like 60s, got '60' (a number needs "
            "a unit: ns, us, ms, s, m or h)");
  EXPECT_EQ(ErrorOf("window: [1s]\n"),
            "waitscope.yaml:1:9: 'window' must be a duration like 60s, got a list");
  EXPECT_EQ(ErrorOf("targets:\n  include: postgres\n"),
            "waitscope.yaml:2:12: expected a list under 'targets.include', got 'postgres'");
  EXPECT_EQ(ErrorOf("exports:\n  prometheus:\n    enabled: maybe\n"),
            "waitscope.yaml:3:14: 'exports.prometheus.enabled' must be true or false, got "
            "'maybe'");
  EXPECT_EQ(ErrorOf("capture:\n  capture_bytes: lots\n"),
            "waitscope.yaml:2:18: 'capture.capture_bytes' must be a whole number from 0 to "
            "16384, got 'lots'");
  EXPECT_EQ(ErrorOf("spool:\n  max_bytes: 12 parsecs\n"),
            "waitscope.yaml:2:14: 'spool.max_bytes' must be a size like 64MiB, got '12 parsecs'");
  EXPECT_EQ(ErrorOf("exports: yes\n"),
            "waitscope.yaml:1:10: expected a mapping under 'exports', got 'yes'");
  EXPECT_EQ(ErrorOf("- a\n- b\n"),
            "waitscope.yaml:1:1: expected a mapping at the top level, got a list");
  EXPECT_EQ(ErrorOf("exports:\n  otlp:\n    headers: [a, b]\n"),
            "waitscope.yaml:3:14: 'exports.otlp.headers' must be a mapping of names to strings, "
            "got a list");
  EXPECT_EQ(ErrorOf("findings:\n  min_requests: many\n"),
            "waitscope.yaml:2:17: 'findings.min_requests' must be a number, got 'many'");
  EXPECT_EQ(ErrorOf("targets:\n  include:\n    - postgres\n"),
            "waitscope.yaml:3:7: each entry of 'targets.include' must be a mapping with comm, "
            "exe, cgroup or unit, got 'postgres'");
}

TEST(ParseAgentConfig, BadValues) {
  EXPECT_EQ(ErrorOf("exports:\n  prometheus:\n    listen: 0.0.0.0:9464\n"),
            "waitscope.yaml:3:13: listen address 0.0.0.0:9464 exposes metrics on every "
            "interface; set allow_public: true to allow it");
  EXPECT_NE(ErrorOf("exports:\n  prometheus:\n    listen: \"[::]:9464\"\n").find("every interface"),
            std::string::npos);
  EXPECT_NE(ErrorOf("exports:\n  prometheus:\n    listen: \":9464\"\n").find("every interface"),
            std::string::npos);
  EXPECT_EQ(ErrorOf("exports:\n  prometheus: {listen: 0.0.0.0:9464, allow_public: true}\n"),
            "(parsed)");
  EXPECT_EQ(ErrorOf("exports:\n  prometheus:\n    listen: 9464\n"),
            "waitscope.yaml:3:13: 'exports.prometheus.listen': '9464' has no port (expected "
            "HOST:PORT such as 127.0.0.1:9464 or [::1]:9464)");
  EXPECT_EQ(ErrorOf("window: 100ms\n"),
            "waitscope.yaml:1:9: 'window' must be between 1s and 24h, got '100ms'");
  EXPECT_EQ(ErrorOf("capture: {capture_bytes: 20000}\n"),
            "waitscope.yaml:1:26: 'capture.capture_bytes' must be a whole number from 0 to "
            "16384, got '20000'");
  EXPECT_EQ(ErrorOf("log_level: loud\n"),
            "waitscope.yaml:1:12: 'log_level' must be one of trace, debug, info, warn, error, "
            "off, got 'loud'");
  EXPECT_EQ(ErrorOf("exports:\n  otlp:\n    endpoint: collector:4318\n"),
            "waitscope.yaml:3:15: 'exports.otlp.endpoint': 'collector:4318' must start with "
            "http:// or https://");
  EXPECT_EQ(ErrorOf("exports:\n  otlp:\n    compression: zstd\n"),
            "waitscope.yaml:3:18: 'exports.otlp.compression' must be gzip or none, got 'zstd'");
  EXPECT_EQ(ErrorOf("exports:\n  otlp:\n    tls:\n      cert_file: " + Pem("c.pem") + "\n"),
            "waitscope.yaml:4:18: 'exports.otlp.tls.cert_file' needs its pair: set cert_file "
            "and key_file together");
  // curl would fail every request on these, as if the collector were down.
  EXPECT_EQ(ErrorOf("exports:\n  otlp:\n    tls: {ca_file: /etc/hostname}\n"),
            "waitscope.yaml:3:20: 'exports.otlp.tls.ca_file': '/etc/hostname' is not a PEM "
            "file (no -----BEGIN line)");
  EXPECT_EQ(ErrorOf("exports:\n  pyroscope:\n    tls: {ca_file: /tmp}\n"),
            "waitscope.yaml:3:20: 'exports.pyroscope.tls.ca_file': '/tmp' is not a regular file");
  EXPECT_EQ(ErrorOf("exports:\n  otlp:\n    tls: {ca_file: " + Pem("ca.pem") + "}\n"), "(parsed)");
  // Directories the agent creates at start: --check finds what would stop it.
  EXPECT_EQ(ErrorOf("exports:\n  files:\n    dir: /etc/hostname\n"),
            "waitscope.yaml:3:10: 'exports.files.dir': '/etc/hostname' exists and is not a "
            "directory");
  EXPECT_EQ(ErrorOf("spool:\n  dir: /proc/waitscope-spool\n"),
            "waitscope.yaml:2:8: 'spool.dir': cannot create '/proc/waitscope-spool' in the "
            "kernel's /proc");
  EXPECT_EQ(ErrorOf("spool:\n  dir: /etc/hostname/spool\n"),
            "waitscope.yaml:2:8: 'spool.dir': cannot create '/etc/hostname/spool': "
            "'/etc/hostname' is not a directory");
  EXPECT_EQ(ErrorOf("spool:\n  dir: " + Pem("x") + ".d/not/yet\n"), "(parsed)");
  // A FIFO is refused without waiting for a writer.
  const std::string fifo = Pem("fifo-dir-marker") + ".fifo";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0) << std::strerror(errno);
  EXPECT_EQ(
      ErrorOf("exports:\n  otlp:\n    tls: {ca_file: " + fifo + "}\n"),
      "waitscope.yaml:3:20: 'exports.otlp.tls.ca_file': '" + fifo + "' is not a regular file");
  EXPECT_EQ(ErrorOf("exports:\n  otlp:\n    tls: {ca_file: /nonexistent/ca.pem}\n"),
            "waitscope.yaml:3:20: 'exports.otlp.tls.ca_file': cannot read '/nonexistent/ca.pem': "
            "No such file or directory");
  EXPECT_EQ(ErrorOf("exports:\n  otlp:\n    headers: {X-A: \"a\\r\\nX-Injected: 1\"}\n"),
            "waitscope.yaml:3:20: 'exports.otlp.headers.X-A': the value holds a control "
            "character (such as a line break), which no HTTP header value may hold");
  EXPECT_EQ(ErrorOf("exports:\n  pyroscope:\n    headers:\n      bad name: v\n"),
            "waitscope.yaml:4:7: 'exports.pyroscope.headers': 'bad name' is not an HTTP header "
            "name (letters, digits and !#$%&'*+-.^_`|~ only)");
  EXPECT_EQ(ErrorOf("exports:\n  pyroscope:\n    enabled: true\n"),
            "waitscope.yaml:3:14: 'exports.pyroscope.enabled' is true but no 'url' is set (for "
            "example http://pyroscope:4040)");
  EXPECT_EQ(ErrorOf("findings:\n  sync_io.min_share: 1.5\n"),
            "waitscope.yaml:2:22: finding option 'sync_io.min_share' is a ratio between 0 and 1");
  EXPECT_EQ(ErrorOf("findings:\n  sync_io:\n    min_share: 0.3\n  sync_io.min_share: 0.4\n"),
            "waitscope.yaml:4:3: 'findings.sync_io.min_share' is set twice");
}

TEST(ParseAgentConfig, TargetRulesAreChecked) {
  EXPECT_EQ(ErrorOf("targets:\n  include:\n    - {}\n"),
            "waitscope.yaml:3:7: 'targets.include[0]' needs at least one of comm, exe, cgroup, "
            "unit");
  EXPECT_EQ(ErrorOf("targets:\n  exclude:\n    - comm: \"\"\n"),
            "waitscope.yaml:3:13: 'targets.exclude[0].comm' must not be empty");
  EXPECT_EQ(ErrorOf("targets:\n  include:\n    - comm: postgres-checkpointer\n"),
            "waitscope.yaml:3:13: 'targets.include[0].comm' is 'postgres-checkpointer', but the "
            "kernel keeps only 15 characters of a process name; use 'postgres-checkp' or an exe "
            "pattern");
  EXPECT_EQ(ErrorOf("targets:\n  include:\n    - comm: \"postgres-check*\"\n"), "(parsed)");
  EXPECT_EQ(ErrorOf("targets:\n  include:\n    - cgroup: system.slice\n"),
            "waitscope.yaml:3:15: 'targets.include[0].cgroup' must be a cgroup path starting "
            "with '/', got 'system.slice'");
  EXPECT_EQ(ErrorOf("targets:\n  include:\n    - unit: /system.slice/x.service\n"),
            "waitscope.yaml:3:13: 'targets.include[0].unit' must be a unit name like "
            "nginx.service, got '/system.slice/x.service'");
}

TEST(ParseAgentConfig, DuplicateKeysAndBrokenYaml) {
  EXPECT_EQ(ErrorOf("window: 10s\nlog_level: info\nwindow: 20s\n"),
            "waitscope.yaml:3:1: duplicate key 'window' at the top level (first at line 1)");
  const std::string syntax = ErrorOf("exports:\n  otlp: {enabled: true\n");
  EXPECT_EQ(syntax.rfind("waitscope.yaml:", 0), 0u) << syntax;
  EXPECT_NE(syntax.find("not valid YAML"), std::string::npos) << syntax;
  EXPECT_EQ(syntax.find('\n'), std::string::npos);
}

// Text that is no single configuration: a second document (silently ignored
// before), NUL bytes (read by yaml-cpp as escapes or the end: a file of NULs
// was "valid"), and a key of a thousand characters (echoed in full).
TEST(ParseAgentConfig, TextThatIsNoOneConfiguration) {
  EXPECT_EQ(ErrorOf("window: 10s\n---\nwindow: 20s\n"),
            "waitscope.yaml: holds 2 YAML documents (separated by ---); the configuration is one");
  EXPECT_EQ(ErrorOf("---\nwindow: 10s\n"), "(parsed)");
  EXPECT_EQ(ErrorOf(std::string("window: 10s\nlog_level: i\0nfo\n", 29)),
            "waitscope.yaml:2:13: not valid YAML: a NUL byte (is this a text file?)");
  EXPECT_EQ(ErrorOf(std::string(16, '\0')),
            "waitscope.yaml:1:1: not valid YAML: a NUL byte (is this a text file?)");
  EXPECT_EQ(ErrorOf(std::string(kMaxConfigBytes + 1, '#')),
            "waitscope.yaml: 1048577 bytes is no configuration file (at most 1048576)");
  const std::string long_key = ErrorOf(std::string(1000, 'x') + ": 1\n");
  EXPECT_LT(long_key.size(), 300u) << long_key.substr(0, 300);
  EXPECT_NE(long_key.find("unknown key 'xxxx"), std::string::npos) << long_key.substr(0, 300);
}

TEST(LoadAgentConfig, MissingFileIsNamed) {
  Result<AgentConfig> config = LoadAgentConfig("/nonexistent/waitscope.yaml", {});
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().message,
            "cannot read config file '/nonexistent/waitscope.yaml': No such file or directory");
  // Refused by size, not read to its end.
  config = LoadAgentConfig("/dev/zero", {});
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().message, "/dev/zero: more than 1048576 bytes is no configuration file");
}

TEST(LogLevelName, RoundTrips) {
  EXPECT_STREQ(LogLevelName(LogLevel::kWarn), "warn");
  Result<AgentConfig> config = ParseAgentConfig("log_level: off\n", "w.yaml", {});
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->log_level, LogLevel::kOff);
}

}  // namespace
}  // namespace waitscope::config
