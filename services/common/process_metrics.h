// The series operators expect of any server, on the admin port's /metrics:
// what build runs (reception_build_info{version,commit}), the process's CPU,
// memory, open files and start time (the `process_*` names Prometheus's own
// clients use, so existing dashboards work), and each RocksDB store's size
// and pending compaction bytes (Store::AllMetrics). Computed when scraped.
#ifndef RECEPTION_SERVICES_COMMON_PROCESS_METRICS_H_
#define RECEPTION_SERVICES_COMMON_PROCESS_METRICS_H_

#include <memory>
#include <string>

#include "prometheus/collectable.h"

namespace reception {

// The version and commit this binary was built from (set at configure
// time; "unknown" outside a git checkout).
const char* BuildVersion();
const char* BuildCommit();

// reception_build_info and process_*; the start time is taken now.
std::shared_ptr<prometheus::Collectable> ProcessMetrics();

}  // namespace reception

#endif  // RECEPTION_SERVICES_COMMON_PROCESS_METRICS_H_
