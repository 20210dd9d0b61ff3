// The OTEL_* environment overlay: what each variable sets, how the file wins,
// and how malformed values are ignored with a warning.
#include <gtest/gtest.h>

#include "config/config_parser.h"
#include "pem_files.h"

namespace waitscope::config {
namespace {

AgentConfig Parse(const std::string& yaml, const Environment& env) {
  Result<AgentConfig> config = ParseAgentConfig(yaml, "waitscope.yaml", env);
  EXPECT_TRUE(config.ok()) << config.error().message;
  return config.ok() ? *config : AgentConfig{};
}

TEST(OtelEnv, GenericEndpointGetsSignalPathsAndEnablesOtlp) {
  AgentConfig c = Parse("", {{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318"}});
  EXPECT_TRUE(c.exports.otlp.enabled);
  EXPECT_EQ(c.exports.otlp.metrics_url, "http://collector:4318/v1/metrics");
  EXPECT_EQ(c.exports.otlp.logs_url, "http://collector:4318/v1/logs");

  c = Parse("", {{"OTEL_EXPORTER_OTLP_ENDPOINT", "https://gw.example/otlp/"}});
  EXPECT_EQ(c.exports.otlp.metrics_url, "https://gw.example/otlp/v1/metrics");
  c = Parse("", {{"OTEL_EXPORTER_OTLP_ENDPOINT", "https://gw.example/otlp"}});
  EXPECT_EQ(c.exports.otlp.logs_url, "https://gw.example/otlp/v1/logs");
}

TEST(OtelEnv, SignalEndpointIsUsedAsIs) {
  AgentConfig c = Parse("", {{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318"},
                             {"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "https://m.example/ingest"}});
  EXPECT_EQ(c.exports.otlp.metrics_url, "https://m.example/ingest");
  EXPECT_EQ(c.exports.otlp.logs_url, "http://collector:4318/v1/logs");

  // Without a path, the root path is used (OTLP exporter spec, example 2).
  c = Parse("", {{"OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "http://logs.example:4318"}});
  EXPECT_TRUE(c.exports.otlp.enabled);
  EXPECT_EQ(c.exports.otlp.logs_url, "http://logs.example:4318/");
  EXPECT_EQ(c.exports.otlp.metrics_url, "http://localhost:4318/v1/metrics");
}

TEST(OtelEnv, FileEndpointsOwnTheGroup) {
  AgentConfig c = Parse("exports:\n  otlp:\n    endpoint: http://file:4318\n",
                        {{"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "http://env/v1/metrics"}});
  EXPECT_EQ(c.exports.otlp.metrics_url, "http://file:4318/v1/metrics");
  EXPECT_FALSE(
      c.exports.otlp.enabled);  // the file set an endpoint, the environment enabled nothing

  c = Parse("exports:\n  otlp:\n    enabled: false\n",
            {{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://env:4318"}});
  EXPECT_FALSE(c.exports.otlp.enabled);
  EXPECT_EQ(c.exports.otlp.metrics_url, "http://env:4318/v1/metrics");
}

TEST(OtelEnv, BadEndpointIsIgnoredWithAWarning) {
  AgentConfig c = Parse("", {{"OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4318"}});
  EXPECT_FALSE(c.exports.otlp.enabled);
  EXPECT_EQ(c.exports.otlp.metrics_url, "http://localhost:4318/v1/metrics");
  ASSERT_EQ(c.warnings.size(), 1u);
  EXPECT_EQ(c.warnings[0],
            "OTEL_EXPORTER_OTLP_ENDPOINT='collector:4318' ignored: 'collector:4318' must start "
            "with http:// or https://");
}

TEST(OtelEnv, EmptyVariablesAreUnset) {
  AgentConfig c = Parse("", {{"OTEL_EXPORTER_OTLP_ENDPOINT", ""},
                             {"OTEL_METRIC_EXPORT_INTERVAL", ""},
                             {"OTEL_SERVICE_NAME", ""}});
  EXPECT_TRUE(c.SameSettings(AgentConfig{}));
  EXPECT_TRUE(c.warnings.empty());
}

TEST(OtelEnv, HeadersArePercentDecodedAndMergedUnderTheFile) {
  AgentConfig c = Parse("exports:\n  otlp:\n    headers: {X-Tenant: from-file}\n",
                        {{"OTEL_EXPORTER_OTLP_HEADERS",
                          "Authorization=Basic%20dXNlcjpwdw%3D%3D , X-Tenant = env,,api-key=a=b"}});
  EXPECT_EQ(
      c.exports.otlp.headers,
      (std::map<std::string, std::string>{
          {"Authorization", "Basic dXNlcjpwdw=="}, {"X-Tenant", "from-file"}, {"api-key", "a=b"}}));
  EXPECT_TRUE(c.warnings.empty());
}

TEST(OtelEnv, MalformedHeadersAreDroppedWhole) {
  AgentConfig c = Parse("", {{"OTEL_EXPORTER_OTLP_HEADERS", "good=1,broken"}});
  EXPECT_TRUE(c.exports.otlp.headers.empty());
  ASSERT_EQ(c.warnings.size(), 1u);
  EXPECT_EQ(c.warnings[0],
            "OTEL_EXPORTER_OTLP_HEADERS ignored (its value is not shown): not a list of "
            "name=value pairs with percent-encoded values");
  c = Parse("", {{"OTEL_EXPORTER_OTLP_HEADERS", "k=100%"}});
  EXPECT_TRUE(c.exports.otlp.headers.empty());
  EXPECT_EQ(c.warnings.size(), 1u);
}

// A percent-encoded CR LF would end the header and start one the user never
// wrote; a name with a blank is no header at all. The warning shows no value:
// header values are credentials.
TEST(OtelEnv, HeadersThatHttpCannotCarryAreRefused) {
  AgentConfig c = Parse(
      "", {{"OTEL_EXPORTER_OTLP_HEADERS", "Authorization=secret%0d%0aX-Injected: 1,X-Team=a"}});
  EXPECT_TRUE(c.exports.otlp.headers.empty());
  ASSERT_EQ(c.warnings.size(), 1u);
  EXPECT_EQ(c.warnings[0],
            "OTEL_EXPORTER_OTLP_HEADERS ignored (its value is not shown): header "
            "'Authorization': the value holds a control character (such as a line break), "
            "which no HTTP header value may hold");
  c = Parse("", {{"OTEL_EXPORTER_OTLP_METRICS_HEADERS", "bad name=v"}});
  EXPECT_TRUE(c.exports.otlp.metrics.headers.empty());
  ASSERT_EQ(c.warnings.size(), 1u);
  EXPECT_NE(c.warnings[0].find("'bad name' is not an HTTP header name"), std::string::npos)
      << c.warnings[0];
  c = Parse("", {{"OTEL_EXPORTER_OTLP_HEADERS", "X-Tab=a%09b,x-token_1.~=v"}});
  EXPECT_TRUE(c.warnings.empty());
  EXPECT_EQ(c.exports.otlp.headers.at("X-Tab"), "a\tb");
}

TEST(OtelEnv, ExportIntervalSetsTheWindowUnlessTheFileDoes) {
  EXPECT_EQ(Parse("", {{"OTEL_METRIC_EXPORT_INTERVAL", "15000"}}).window_ns, 15'000'000'000u);
  EXPECT_EQ(Parse("window: 30s\n", {{"OTEL_METRIC_EXPORT_INTERVAL", "15000"}}).window_ns,
            30'000'000'000u);
  AgentConfig c = Parse("", {{"OTEL_METRIC_EXPORT_INTERVAL", "15s"}});
  EXPECT_EQ(c.window_ns, 60'000'000'000u);
  ASSERT_EQ(c.warnings.size(), 1u);
  EXPECT_EQ(c.warnings[0],
            "OTEL_METRIC_EXPORT_INTERVAL='15s' ignored: expected milliseconds from 1000 to "
            "86400000");
  EXPECT_EQ(Parse("", {{"OTEL_METRIC_EXPORT_INTERVAL", "500"}}).window_ns, 60'000'000'000u);
}

TEST(OtelEnv, TimeoutCompressionAndCertificates) {
  AgentConfig c = Parse("", {{"OTEL_EXPORTER_OTLP_TIMEOUT", "2500"},
                             {"OTEL_EXPORTER_OTLP_COMPRESSION", "none"},
                             {"OTEL_EXPORTER_OTLP_CERTIFICATE", Pem("etc-ssl-ca.pem")},
                             {"OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", Pem("etc-ssl-c.pem")},
                             {"OTEL_EXPORTER_OTLP_CLIENT_KEY", Pem("etc-ssl-c.key")}});
  EXPECT_EQ(c.exports.otlp.timeout_ns, 2'500'000'000u);
  EXPECT_FALSE(c.exports.otlp.gzip);
  EXPECT_EQ(c.exports.otlp.tls.ca_file, Pem("etc-ssl-ca.pem"));
  EXPECT_EQ(c.exports.otlp.tls.cert_file, Pem("etc-ssl-c.pem"));
  EXPECT_EQ(c.exports.otlp.tls.key_file, Pem("etc-ssl-c.key"));
  EXPECT_TRUE(c.warnings.empty());

  c = Parse("exports:\n  otlp: {compression: gzip, timeout: 1s}\n",
            {{"OTEL_EXPORTER_OTLP_TIMEOUT", "2500"}, {"OTEL_EXPORTER_OTLP_COMPRESSION", "none"}});
  EXPECT_EQ(c.exports.otlp.timeout_ns, 1'000'000'000u);
  EXPECT_TRUE(c.exports.otlp.gzip);

  c = Parse("", {{"OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", Pem("etc-ssl-c.pem")},
                 {"OTEL_EXPORTER_OTLP_COMPRESSION", "zstd"}});
  EXPECT_TRUE(c.exports.otlp.tls.cert_file.empty());
  EXPECT_TRUE(c.exports.otlp.gzip);
  EXPECT_EQ(c.warnings.size(), 2u);
}

// As in the file: a certificate variable must name a usable PEM file, or
// every export would fail as if the collector were down. A client pair with
// one bad file is ignored whole.
TEST(OtelEnv, CertificatesMustBeUsablePemFiles) {
  AgentConfig c = Parse("", {{"OTEL_EXPORTER_OTLP_CERTIFICATE", "/nonexistent/ca.pem"},
                             {"OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", Pem("pair.pem")},
                             {"OTEL_EXPORTER_OTLP_CLIENT_KEY", "/etc/hostname"}});
  EXPECT_TRUE(c.exports.otlp.tls.ca_file.empty());
  EXPECT_TRUE(c.exports.otlp.tls.cert_file.empty());
  EXPECT_TRUE(c.exports.otlp.tls.key_file.empty());
  EXPECT_EQ(c.warnings, (std::vector<std::string>{
                            "OTEL_EXPORTER_OTLP_CERTIFICATE='/nonexistent/ca.pem' ignored: cannot "
                            "read '/nonexistent/ca.pem': No such file or directory",
                            "OTEL_EXPORTER_OTLP_CLIENT_KEY='/etc/hostname' ignored: "
                            "'/etc/hostname' is not a PEM file (no -----BEGIN line)"}));
}

TEST(OtelEnv, ServiceNameAndResourceAttributes) {
  const Environment env = {
      {"OTEL_RESOURCE_ATTRIBUTES",
       "service.name=from-attrs,host.name=web%2D1,deployment.environment=prod"},
      {"OTEL_SERVICE_NAME", "from-service-name"}};
  AgentConfig c = Parse("", env);
  EXPECT_EQ(c.exports.otlp.service_name, "from-service-name");
  EXPECT_EQ(c.exports.otlp.resource_attributes,
            (std::map<std::string, std::string>{{"deployment.environment", "prod"},
                                                {"host.name", "web-1"},
                                                {"service.name", "from-service-name"}}));

  c = Parse("", {{"OTEL_RESOURCE_ATTRIBUTES", "service.name=from-attrs"}});
  EXPECT_EQ(c.exports.otlp.service_name, "from-attrs");

  c = Parse("exports:\n  otlp:\n    resource_attributes: {deployment.environment: staging}\n", env);
  EXPECT_EQ(c.exports.otlp.resource_attributes.at("deployment.environment"), "staging");
  EXPECT_EQ(c.exports.otlp.service_name, "from-service-name");

  c = Parse("exports:\n  otlp:\n    resource_attributes: {service.name: file-attr}\n", env);
  EXPECT_EQ(c.exports.otlp.service_name, "file-attr");
  c = Parse("exports:\n  otlp:\n    service_name: file-name\n", env);
  EXPECT_EQ(c.exports.otlp.resource_attributes.at("service.name"), "file-name");
}

TEST(OtelEnv, UnsupportedProtocolWarns) {
  AgentConfig c = Parse("", {{"OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"},
                             {"OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "http/protobuf"}});
  ASSERT_EQ(c.warnings.size(), 1u);
  EXPECT_EQ(c.warnings[0],
            "OTEL_EXPORTER_OTLP_PROTOCOL='grpc' ignored: waitscope sends OTLP as http/protobuf "
            "only");
}

TEST(OtelEnv, PrometheusHostAndPort) {
  EXPECT_EQ(Parse("", {{"OTEL_EXPORTER_PROMETHEUS_PORT", "9100"}}).exports.prometheus.listen,
            "127.0.0.1:9100");
  EXPECT_EQ(Parse("", {{"OTEL_EXPORTER_PROMETHEUS_HOST", "::1"}}).exports.prometheus.listen,
            "[::1]:9464");
  AgentConfig c = Parse("", {{"OTEL_EXPORTER_PROMETHEUS_HOST", "0.0.0.0"}});
  EXPECT_EQ(c.exports.prometheus.listen, "127.0.0.1:9464");
  EXPECT_EQ(c.warnings.size(), 1u);
  c = Parse("exports:\n  prometheus: {allow_public: true}\n",
            {{"OTEL_EXPORTER_PROMETHEUS_HOST", "0.0.0.0"}});
  EXPECT_EQ(c.exports.prometheus.listen, "0.0.0.0:9464");
  EXPECT_EQ(Parse("exports:\n  prometheus: {listen: \"127.0.0.1:1234\"}\n",
                  {{"OTEL_EXPORTER_PROMETHEUS_PORT", "9100"}})
                .exports.prometheus.listen,
            "127.0.0.1:1234");
}

// OTEL_EXPORTER_OTLP_{METRICS,LOGS}_*: each signal's variable beats the
// generic one for that signal only; the file's keys beat both.
TEST(OtelEnv, SignalVariablesBeatGenericOnesForTheirSignal) {
  AgentConfig c = Parse("", {{"OTEL_EXPORTER_OTLP_HEADERS", "Authorization=generic,X-Team=a"},
                             {"OTEL_EXPORTER_OTLP_LOGS_HEADERS", "Authorization=Bearer%20logs"},
                             {"OTEL_EXPORTER_OTLP_TIMEOUT", "2000"},
                             {"OTEL_EXPORTER_OTLP_METRICS_TIMEOUT", "7000"},
                             {"OTEL_EXPORTER_OTLP_COMPRESSION", "gzip"},
                             {"OTEL_EXPORTER_OTLP_LOGS_COMPRESSION", "none"},
                             {"OTEL_EXPORTER_OTLP_CERTIFICATE", Pem("ca-generic.pem")},
                             {"OTEL_EXPORTER_OTLP_METRICS_CERTIFICATE", Pem("ca-metrics.pem")},
                             {"OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", Pem("c-generic.pem")},
                             {"OTEL_EXPORTER_OTLP_CLIENT_KEY", Pem("c-generic.key")},
                             {"OTEL_EXPORTER_OTLP_LOGS_CLIENT_CERTIFICATE", Pem("c-logs.pem")},
                             {"OTEL_EXPORTER_OTLP_LOGS_CLIENT_KEY", Pem("c-logs.key")}});
  EXPECT_TRUE(c.warnings.empty());
  const OtlpConfig& otlp = c.exports.otlp;
  // The shared values are the generic variables'.
  EXPECT_EQ(otlp.headers,
            (std::map<std::string, std::string>{{"Authorization", "generic"}, {"X-Team", "a"}}));
  EXPECT_EQ(otlp.timeout_ns, 2'000'000'000u);

  EXPECT_EQ(otlp.metrics.headers, otlp.headers);
  EXPECT_EQ(otlp.metrics.timeout_ns, 7'000'000'000u);
  EXPECT_TRUE(otlp.metrics.gzip);
  EXPECT_EQ(otlp.metrics.tls.ca_file, Pem("ca-metrics.pem"));
  EXPECT_EQ(otlp.metrics.tls.cert_file, Pem("c-generic.pem"));
  EXPECT_EQ(otlp.metrics.tls.key_file, Pem("c-generic.key"));

  // A signal's headers replace the generic list (X-Team is not inherited).
  EXPECT_EQ(otlp.logs.headers,
            (std::map<std::string, std::string>{{"Authorization", "Bearer logs"}}));
  EXPECT_EQ(otlp.logs.timeout_ns, 2'000'000'000u);
  EXPECT_FALSE(otlp.logs.gzip);
  EXPECT_EQ(otlp.logs.tls.ca_file, Pem("ca-generic.pem"));
  EXPECT_EQ(otlp.logs.tls.cert_file, Pem("c-logs.pem"));
  EXPECT_EQ(otlp.logs.tls.key_file, Pem("c-logs.key"));
}

TEST(OtelEnv, WithoutSignalVariablesBothSignalsGetTheSharedValues) {
  AgentConfig c = Parse(
      "exports:\n  otlp: {timeout: 3s, headers: {X-File: f}}\n",
      {{"OTEL_EXPORTER_OTLP_HEADERS", "X-Env=e"}, {"OTEL_EXPORTER_OTLP_COMPRESSION", "none"}});
  const OtlpSignalConfig shared{c.exports.otlp.headers, c.exports.otlp.gzip,
                                c.exports.otlp.timeout_ns, c.exports.otlp.tls};
  EXPECT_EQ(c.exports.otlp.metrics, shared);
  EXPECT_EQ(c.exports.otlp.logs, shared);
  EXPECT_EQ(shared.headers, (std::map<std::string, std::string>{{"X-Env", "e"}, {"X-File", "f"}}));
  EXPECT_FALSE(shared.gzip);
  EXPECT_EQ(shared.timeout_ns, 3'000'000'000u);
}

TEST(OtelEnv, FileKeysBeatSignalVariables) {
  AgentConfig c = Parse(
      "exports:\n  otlp:\n    compression: gzip\n    timeout: 1s\n"
      "    headers: {Authorization: from-file}\n",
      {{"OTEL_EXPORTER_OTLP_METRICS_COMPRESSION", "none"},
       {"OTEL_EXPORTER_OTLP_METRICS_TIMEOUT", "9000"},
       {"OTEL_EXPORTER_OTLP_METRICS_HEADERS", "Authorization=env,X-Env=m"}});
  EXPECT_TRUE(c.exports.otlp.metrics.gzip);
  EXPECT_EQ(c.exports.otlp.metrics.timeout_ns, 1'000'000'000u);
  // Headers merge, the file winning for a name present in both.
  EXPECT_EQ(c.exports.otlp.metrics.headers,
            (std::map<std::string, std::string>{{"Authorization", "from-file"}, {"X-Env", "m"}}));
  EXPECT_EQ(c.exports.otlp.logs.headers,
            (std::map<std::string, std::string>{{"Authorization", "from-file"}}));
  EXPECT_TRUE(c.warnings.empty());
}

TEST(OtelEnv, MalformedSignalVariablesFallBackToTheGenericOnes) {
  AgentConfig c = Parse("", {{"OTEL_EXPORTER_OTLP_HEADERS", "k=generic"},
                             {"OTEL_EXPORTER_OTLP_METRICS_HEADERS", "broken"},
                             {"OTEL_EXPORTER_OTLP_TIMEOUT", "4000"},
                             {"OTEL_EXPORTER_OTLP_LOGS_TIMEOUT", "4s"},
                             {"OTEL_EXPORTER_OTLP_LOGS_COMPRESSION", "zstd"},
                             {"OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", Pem("c-generic.pem")},
                             {"OTEL_EXPORTER_OTLP_CLIENT_KEY", Pem("c-generic.key")},
                             {"OTEL_EXPORTER_OTLP_METRICS_CLIENT_KEY", "/c/metrics.key"}});
  const OtlpConfig& otlp = c.exports.otlp;
  EXPECT_EQ(otlp.metrics.headers, (std::map<std::string, std::string>{{"k", "generic"}}));
  EXPECT_EQ(otlp.logs.timeout_ns, 4'000'000'000u);
  EXPECT_TRUE(otlp.logs.gzip);
  // Never half a pair: the metrics key alone leaves the generic pair in force.
  EXPECT_EQ(otlp.metrics.tls.cert_file, Pem("c-generic.pem"));
  EXPECT_EQ(otlp.metrics.tls.key_file, Pem("c-generic.key"));
  EXPECT_EQ(c.warnings,
            (std::vector<std::string>{
                "OTEL_EXPORTER_OTLP_METRICS_HEADERS ignored (its value is not shown): not a "
                "list of name=value pairs with percent-encoded values",
                "OTEL_EXPORTER_OTLP_METRICS_CLIENT_KEY='/c/metrics.key' ignored: "
                "OTEL_EXPORTER_OTLP_METRICS_CLIENT_CERTIFICATE is not set",
                "OTEL_EXPORTER_OTLP_LOGS_COMPRESSION='zstd' ignored: expected gzip or none",
                "OTEL_EXPORTER_OTLP_LOGS_TIMEOUT='4s' ignored: expected milliseconds from 1 to "
                "600000"}));
}

}  // namespace
}  // namespace waitscope::config
