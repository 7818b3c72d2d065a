#include "services/common/server_host.h"

#include <exception>

#include "absl/strings/str_cat.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"
#include "prometheus/exposer.h"
#include "services/common/auth.h"
#include "services/common/logging.h"
#include "services/common/rpc_metrics.h"

namespace reception {

ServerHost::ServerHost(Options options, std::shared_ptr<prometheus::Registry> metrics)
    : options_(std::move(options)), metrics_(std::move(metrics)) {}

ServerHost::~ServerHost() { Shutdown(absl::ZeroDuration()); }

void ServerHost::AddService(grpc::Service* service, std::string name) {
  services_.emplace_back(service, std::move(name));
}

absl::Status ServerHost::Start() {
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(
      options_.listen_address,
      options_.credentials ? options_.credentials : grpc::InsecureServerCredentials(), &port_);
  // Long-lived streams between nodes (bridge links) send keepalive pings so
  // a silently cut link is noticed; accept them every 10 s or more.
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 10000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  for (auto& [service, name] : services_) builder.RegisterService(service);
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> creators;
  creators.push_back(MakeRpcMetricsInterceptorFactory(metrics_));
  creators.push_back(MakeMethodTagInterceptorFactory());
  builder.experimental().SetInterceptorCreators(std::move(creators));
  server_ = builder.BuildAndStart();
  if (server_ == nullptr || port_ == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen for gRPC on ", options_.listen_address));
  }
  SetServing(false);
  if (!options_.admin_address.empty()) {
    try {
      exposer_ = std::make_unique<prometheus::Exposer>(options_.admin_address);
    } catch (const std::exception& e) {
      return absl::UnavailableError(
          absl::StrCat("cannot listen for metrics on ", options_.admin_address, ": ", e.what()));
    }
    exposer_->RegisterCollectable(metrics_);
    for (auto& c : collectables_) exposer_->RegisterCollectable(c);
    auto ports = exposer_->GetListeningPorts();
    admin_port_ = ports.empty() ? 0 : ports.front();
  }
  return absl::OkStatus();
}

void ServerHost::SetServing(bool serving) {
  if (server_ == nullptr) return;
  auto* health = server_->GetHealthCheckService();
  if (health == nullptr) return;
  health->SetServingStatus(serving);
  for (auto& [service, name] : services_) health->SetServingStatus(name, serving);
}

std::shared_ptr<grpc::Channel> ServerHost::InProcessChannel() {
  return server_->InProcessChannel(grpc::ChannelArguments());
}

void ServerHost::Shutdown(absl::Duration grace) {
  if (shut_down_ || server_ == nullptr) return;
  shut_down_ = true;
  SetServing(false);
  server_->Shutdown(std::chrono::system_clock::now() +
                    std::chrono::milliseconds(absl::ToInt64Milliseconds(grace)));
  server_->Wait();
  exposer_.reset();  // civetweb takes up to its 2 s poll interval to stop
}

}  // namespace reception
