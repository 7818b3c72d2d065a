// What every service binary shares: flags, configuration, topology, rule
// packs, logging, metrics, the server host, readiness and graceful shutdown.
// A binary's main() is the list of modules it hosts.
#ifndef RECEPTION_SERVICES_COMMON_NODE_RUNTIME_H_
#define RECEPTION_SERVICES_COMMON_NODE_RUNTIME_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "grpcpp/impl/codegen/service_type.h"
#include "prometheus/collectable.h"
#include "prometheus/registry.h"
#include "reception/config/v1/config.pb.h"
#include "services/calendar/working_calendar.h"
#include "services/common/auth.h"
#include "services/common/clock.h"
#include "services/common/credentials.h"
#include "services/common/principal.h"
#include "services/common/rule_book.h"
#include "services/common/store.h"
#include "services/common/topology.h"

namespace reception {

// Everything a module may depend on. Outlives every module.
struct NodeContext {
  config::v1::NodeConfig config;
  Topology topology;
  RuleBook rules;
  WorkingCalendar calendar;
  const Clock* clock = nullptr;
  std::shared_ptr<prometheus::Registry> metrics;
  const Authenticator* authenticator = nullptr;
  // A channel to this process's own server, for services that call each
  // other with the same client code as across processes. Returns nullptr
  // until the server runs; call it lazily.
  std::function<std::shared_ptr<grpc::Channel>()> local_channel;
  // Calls over local_channel carry this in kInProcessMetadata (auth.h).
  std::string in_process_secret;
  // The node's transport credentials and THE factory of its outgoing
  // channels (credentials.h).
  std::shared_ptr<const Credentials> credentials =
      Credentials::FromConfig(config::v1::AuthConfig());
  // Test seam (--test_fault): a named point at which the node crashes.
  std::string test_fault;
  // One RocksDB block cache for every store of the process
  // (storage.block_cache_mib).
  std::shared_ptr<rocksdb::Cache> block_cache;
  // One memtable budget for every store of the node
  // (storage.write_buffer_mib).
  std::shared_ptr<rocksdb::WriteBufferManager> write_buffer_manager;

  // The options of the store `name` ("<data_dir>/<name>"): the storage
  // settings of the configuration (sync policy, group size, the shared
  // cache), metrics, and `families`. Every service opens its store so.
  Store::Options StoreOptions(const std::string& name, std::vector<std::string> families) const;
};

// One service hosted by a node: its gRPC service and its readiness.
class ServiceModule {
 public:
  virtual ~ServiceModule() = default;
  virtual grpc::Service* service() = 0;
  // Full service name, e.g. "reception.cases.v1.CaseService".
  virtual std::string service_name() const = 0;
  // False when the module cannot serve (store failed).
  virtual bool ready() const = 0;
  // More services the module serves, with their full names.
  virtual std::vector<std::pair<grpc::Service*, std::string>> extra_services() { return {}; }
  // Metrics computed when scraped, beside the shared registry.
  virtual std::vector<std::shared_ptr<prometheus::Collectable>> collectables() const { return {}; }
  // The module's part of the oversight page (/oversight on the admin port),
  // as HTML, for an authenticated reader `who` of this node's unit or one
  // above it; `query` holds the page's parameters (month, quarter).
  virtual std::string OversightSection(const Principal& who,
                                       const std::map<std::string, std::string>& query) const {
    (void)who;
    (void)query;
    return "";
  }
};

using ModuleFactory =
    std::function<absl::StatusOr<std::unique_ptr<ServiceModule>>(const NodeContext&)>;

// Parses flags (--config, --listen, --admin_listen, --data_dir, --ready_file,
// and the test seam --clock_file),
// builds the context and the modules, serves until SIGTERM or SIGINT, then
// shuts down within the configured grace. Returns the process exit code.
int RunNode(int argc, char** argv, absl::string_view program,
            const std::vector<ModuleFactory>& modules);

}  // namespace reception

#endif  // RECEPTION_SERVICES_COMMON_NODE_RUNTIME_H_
