// Writes Prometheus expositions for `promtool check metrics`: argv[1] gets
// the accumulator's output for two sample windows (every metric the agent
// exports, with label values that need escaping), argv[2] the encoder's
// golden edge cases.
#include <fstream>
#include <iostream>

#include "metrics/metrics_accumulator.h"
#include "metrics/prometheus_text.h"
#include "sample_data.h"

int main(int argc, char** argv) {
  using namespace waitscope::metrics;
  if (argc != 3) {
    std::cerr << "usage: metrics_sample_main AGENT.prom GOLDEN.prom\n";
    return 2;
  }
  MetricsAccumulator acc;
  acc.AddWindow(testing::SampleWindow());
  acc.AddWindow(testing::SampleWindow());
  AgentHealth health;
  if (waitscope::Status st = ReadSelfUsage(&health); !st.ok()) {
    std::cerr << st.error().message << "\n";
    return 1;
  }
  health.events = 1000;
  health.events_dropped = 3;
  health.export_failures["otlp_metrics"] = 1;
  health.spool_size_bytes = 4096;
  health.evictions = 2;
  acc.SetHealth(health);
  std::ofstream(argv[1]) << EncodePrometheusText(acc.Snapshot(0));
  std::ofstream(argv[2]) << EncodePrometheusText(testing::GoldenSnapshot());
  return 0;
}
