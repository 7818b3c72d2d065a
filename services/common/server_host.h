// Hosts gRPC services in one server: callback API, grpc.health.v1 driven by
// real readiness, server reflection, the metrics interceptor, and a
// separate admin HTTP port (civetweb) serving Prometheus /metrics and the
// node's admin pages (AddPage).
#ifndef RECEPTION_SERVICES_COMMON_SERVER_HOST_H_
#define RECEPTION_SERVICES_COMMON_SERVER_HOST_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "grpcpp/impl/codegen/service_type.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server.h"
#include "prometheus/registry.h"
#include "services/common/admin_page.h"

class CivetServer;
class CivetHandler;

namespace prometheus {
class Collectable;
}  // namespace prometheus

namespace reception {

class ServerHost {
 public:
  struct Options {
    std::string listen_address = "127.0.0.1:0";
    std::string admin_address = "127.0.0.1:0";  // empty: no admin port
    // The gRPC port's credentials; plaintext when unset (tests, development).
    std::shared_ptr<grpc::ServerCredentials> credentials;
    // A second gRPC port serving grpc.health.v1 alone, in plaintext, for
    // probes that speak no TLS (Kubernetes' native gRPC probes); empty: none.
    // Nothing else is served there.
    std::string health_address;
  };
  // The health-only port (0 when there is none).
  int health_port() const { return health_port_; }

  ServerHost(Options options, std::shared_ptr<prometheus::Registry> metrics);
  ~ServerHost();

  // Before Start. The service must outlive the host. `name` is its full
  // name for health checks, e.g. "reception.cases.v1.CaseService".
  void AddService(grpc::Service* service, std::string name);

  // Before Start. Metrics computed when scraped; must outlive the host. The
  // same collectable offered by several modules is registered once.
  void AddCollectable(std::shared_ptr<prometheus::Collectable> collectable) {
    for (const auto& c : collectables_) {
      if (c == collectable) return;
    }
    collectables_.push_back(std::move(collectable));
  }

  // Before Start. Serves `page` at `path` on the admin port (GET).
  void AddPage(std::string path, AdminPage page) {
    pages_.emplace_back(std::move(path), std::move(page));
  }

  // Binds both ports and starts serving; health reports NOT_SERVING until
  // SetServing(true).
  absl::Status Start();

  int port() const { return port_; }
  int admin_port() const { return admin_port_; }

  // Sets health for the whole server ("") and every added service.
  void SetServing(bool serving);

  // A channel to this server that never leaves the process.
  std::shared_ptr<grpc::Channel> InProcessChannel();

  // Stops accepting calls, lets in-flight ones finish until `grace` passes,
  // then cancels the rest. Idempotent.
  void Shutdown(absl::Duration grace);

 private:
  Options options_;
  std::shared_ptr<prometheus::Registry> metrics_;
  std::vector<std::pair<grpc::Service*, std::string>> services_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<grpc::Server> health_server_;
  int health_port_ = 0;
  std::vector<std::shared_ptr<prometheus::Collectable>> collectables_;
  std::vector<std::pair<std::string, AdminPage>> pages_;
  std::vector<std::unique_ptr<CivetHandler>> handlers_;
  std::unique_ptr<CivetServer> admin_;
  int port_ = 0;
  int admin_port_ = 0;
  bool shut_down_ = false;
};

}  // namespace reception

#endif  // RECEPTION_SERVICES_COMMON_SERVER_HOST_H_
