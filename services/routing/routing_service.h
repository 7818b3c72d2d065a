// The routing service's gRPC edge and node module. It reads cases and hands
// them off through the case service's public API over a channel: in-process
// inside receptiond, the case service's address for reception-routing. The
// calls are asynchronous, so no reactor thread waits on the network.
#ifndef RECEPTION_SERVICES_ROUTING_ROUTING_SERVICE_H_
#define RECEPTION_SERVICES_ROUTING_ROUTING_SERVICE_H_

#include <memory>
#include <string>

#include "absl/synchronization/mutex.h"
#include "reception/cases/v1/case_service.grpc.pb.h"
#include "reception/cases/v1/handoff_service.grpc.pb.h"
#include "reception/routing/v1/routing_service.grpc.pb.h"
#include "services/common/auth.h"
#include "services/common/node_runtime.h"
#include "services/routing/routing_engine.h"

namespace reception {

class RoutingGrpcService final : public routing::v1::RoutingService::CallbackService {
 public:
  RoutingGrpcService(const RoutingEngine* engine, const Authenticator* auth, std::string unit_code,
                     std::function<std::shared_ptr<grpc::Channel>()> case_channel,
                     std::string in_process_secret)
      : engine_(engine),
        auth_(auth),
        unit_code_(std::move(unit_code)),
        case_channel_(std::move(case_channel)),
        in_process_secret_(std::move(in_process_secret)) {}

  grpc::ServerUnaryReactor* RouteCase(grpc::CallbackServerContext* ctx,
                                      const routing::v1::RouteCaseRequest* req,
                                      routing::v1::RoutingDecision* resp) override;

 private:
  // Stubs on first use: the in-process channel exists only once the server runs.
  bool Stubs(cases::v1::CaseService::Stub** cases, cases::v1::HandoffService::Stub** handoffs);

  const RoutingEngine* engine_;
  const Authenticator* auth_;
  std::string unit_code_;
  std::function<std::shared_ptr<grpc::Channel>()> case_channel_;
  std::string in_process_secret_;  // empty when the case service is another process
  absl::Mutex mu_;
  std::unique_ptr<cases::v1::CaseService::Stub> cases_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<cases::v1::HandoffService::Stub> handoffs_ ABSL_GUARDED_BY(mu_);
};

class RoutingModule final : public ServiceModule {
 public:
  static absl::StatusOr<std::unique_ptr<ServiceModule>> Create(const NodeContext& context);
  grpc::Service* service() override { return service_.get(); }
  std::string service_name() const override { return "reception.routing.v1.RoutingService"; }
  bool ready() const override { return true; }

 private:
  std::unique_ptr<RoutingEngine> engine_;
  std::unique_ptr<RoutingGrpcService> service_;
};

}  // namespace reception

#endif  // RECEPTION_SERVICES_ROUTING_ROUTING_SERVICE_H_
