#include "services/common/process_metrics.h"

#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <vector>

#include "absl/time/clock.h"
#include "prometheus/metric_family.h"

#ifndef RECEPTION_VERSION
#define RECEPTION_VERSION "unknown"
#endif
#ifndef RECEPTION_COMMIT
#define RECEPTION_COMMIT "unknown"
#endif

namespace reception {

const char* BuildVersion() { return RECEPTION_VERSION; }
const char* BuildCommit() { return RECEPTION_COMMIT; }

namespace {

prometheus::MetricFamily Gauge(const std::string& name, const std::string& help, double value,
                               prometheus::MetricType type = prometheus::MetricType::Gauge) {
  prometheus::MetricFamily f{name, help, type, {}};
  prometheus::ClientMetric m;
  if (type == prometheus::MetricType::Counter) {
    m.counter.value = value;
  } else {
    m.gauge.value = value;
  }
  f.metric.push_back(std::move(m));
  return f;
}

class Process final : public prometheus::Collectable {
 public:
  Process() : start_(absl::ToDoubleSeconds(absl::Now() - absl::UnixEpoch())) {}

  std::vector<prometheus::MetricFamily> Collect() const override {
    std::vector<prometheus::MetricFamily> out;
    prometheus::MetricFamily info{"reception_build_info",
                                  "Always 1; the labels say which build runs",
                                  prometheus::MetricType::Gauge,
                                  {}};
    prometheus::ClientMetric m;
    m.label = {{"version", BuildVersion()}, {"commit", BuildCommit()}};
    m.gauge.value = 1;
    info.metric.push_back(std::move(m));
    out.push_back(std::move(info));

    struct rusage usage {};
    if (getrusage(RUSAGE_SELF, &usage) == 0) {
      const double cpu = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
      out.push_back(Gauge("process_cpu_seconds_total", "User and system CPU time spent in seconds",
                          cpu, prometheus::MetricType::Counter));
    }
    // statm: total program size and resident set, in pages.
    std::ifstream statm("/proc/self/statm");
    double pages_virtual = 0, pages_resident = 0;
    if (statm >> pages_virtual >> pages_resident) {
      const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
      out.push_back(Gauge("process_virtual_memory_bytes", "Virtual memory size in bytes",
                          pages_virtual * page));
      out.push_back(Gauge("process_resident_memory_bytes", "Resident memory size in bytes",
                          pages_resident * page));
    }
    std::error_code ec;
    double fds = 0;
    for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
         !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
      ++fds;
    }
    if (!ec) out.push_back(Gauge("process_open_fds", "Number of open file descriptors", fds));
    struct rlimit limit {};
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0) {
      out.push_back(Gauge("process_max_fds", "Maximum number of open file descriptors",
                          static_cast<double>(limit.rlim_cur)));
    }
    out.push_back(Gauge("process_start_time_seconds",
                        "Start time of the process since unix epoch in seconds", start_));
    return out;
  }

 private:
  const double start_;
};

}  // namespace

std::shared_ptr<prometheus::Collectable> ProcessMetrics() { return std::make_shared<Process>(); }

}  // namespace reception
