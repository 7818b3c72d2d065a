#include "services/common/server_host.h"

#include <exception>
#include <sstream>

#include "CivetServer.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"
#include "prometheus/collectable.h"
#include "prometheus/text_serializer.h"
#include "services/common/auth.h"
#include "services/common/logging.h"
#include "services/common/rpc_metrics.h"

namespace reception {
namespace {

// GET /metrics: the registry and every collectable, in the text format.
class MetricsHandler final : public CivetHandler {
 public:
  MetricsHandler(std::shared_ptr<prometheus::Registry> registry,
                 std::vector<std::shared_ptr<prometheus::Collectable>> collectables)
      : registry_(std::move(registry)), collectables_(std::move(collectables)) {}
  bool handleGet(CivetServer*, struct mg_connection* conn) override {
    std::vector<prometheus::MetricFamily> families = registry_->Collect();
    for (const auto& c : collectables_) {
      auto more = c->Collect();
      families.insert(families.end(), std::make_move_iterator(more.begin()),
                      std::make_move_iterator(more.end()));
    }
    std::ostringstream out;
    prometheus::TextSerializer().Serialize(out, families);
    const std::string body = out.str();
    mg_send_http_ok(conn, "text/plain; version=0.0.4; charset=utf-8",
                    static_cast<long long>(body.size()));
    mg_write(conn, body.data(), body.size());
    return true;
  }

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  std::vector<std::shared_ptr<prometheus::Collectable>> collectables_;
};

// GET of an admin page: the request as AdminRequest, the reply as given.
class PageHandler final : public CivetHandler {
 public:
  explicit PageHandler(AdminPage page) : page_(std::move(page)) {}
  bool handleGet(CivetServer* server, struct mg_connection* conn) override {
    AdminRequest req;
    const mg_request_info* info = mg_get_request_info(conn);
    const std::string remote = info->remote_addr;
    req.loopback = remote.rfind("127.", 0) == 0 || remote == "::1";
    // The parameters the pages know (decoded by civetweb).
    for (const char* name : {"month", "quarter", "unit", "role", "subject"}) {
      std::string value;
      if (CivetServer::getParam(conn, name, value)) req.query[name] = value;
    }
    if (const char* h = mg_get_header(conn, "Authorization");
        h != nullptr && std::string(h).rfind("Bearer ", 0) == 0) {
      req.bearer_token = std::string(h).substr(7);
    } else if (std::string token; CivetServer::getParam(conn, "access_token", token)) {
      req.bearer_token = token;
    }
    (void)server;
    AdminReply reply = page_(req);
    mg_printf(conn,
              "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
              "Cache-Control: no-store\r\nReferrer-Policy: no-referrer\r\n"
              "X-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n",
              reply.status, mg_get_response_code_text(conn, reply.status),
              reply.content_type.c_str(), reply.body.size());
    mg_write(conn, reply.body.data(), reply.body.size());
    return true;
  }

 private:
  AdminPage page_;
};

}  // namespace

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
  // a silently cut link is noticed within the configured heartbeat timeout
  // (media.heartbeat_timeout_seconds, as low as a few seconds); accept them
  // every second or more.
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 1000);
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
  if (!options_.health_address.empty()) {
    // Its own server: only the default health service is registered, so no
    // method of the API is reachable without TLS.
    grpc::ServerBuilder health;
    health.AddListeningPort(options_.health_address, grpc::InsecureServerCredentials(),
                            &health_port_);
    health_server_ = health.BuildAndStart();
    if (health_server_ == nullptr || health_port_ == 0) {
      return absl::UnavailableError(
          absl::StrCat("cannot listen for health checks on ", options_.health_address));
    }
  }
  SetServing(false);
  if (!options_.admin_address.empty()) {
    try {
      admin_ = std::make_unique<CivetServer>(
          std::vector<std::string>{"listening_ports", options_.admin_address, "num_threads", "4"});
    } catch (const std::exception& e) {
      return absl::UnavailableError(
          absl::StrCat("cannot listen for metrics on ", options_.admin_address, ": ", e.what()));
    }
    handlers_.push_back(std::make_unique<MetricsHandler>(metrics_, collectables_));
    admin_->addHandler("/metrics", handlers_.back().get());
    for (auto& [path, page] : pages_) {
      handlers_.push_back(std::make_unique<PageHandler>(page));
      admin_->addHandler(path, handlers_.back().get());
    }
    auto ports = admin_->getListeningPorts();
    admin_port_ = ports.empty() ? 0 : ports.front();
  }
  return absl::OkStatus();
}

void ServerHost::SetServing(bool serving) {
  for (grpc::Server* s : {server_.get(), health_server_.get()}) {
    if (s == nullptr) continue;
    auto* health = s->GetHealthCheckService();
    if (health == nullptr) continue;
    health->SetServingStatus(serving);
    for (auto& [service, name] : services_) health->SetServingStatus(name, serving);
  }
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
  if (health_server_ != nullptr) {
    health_server_->Shutdown(std::chrono::system_clock::now());
    health_server_->Wait();
  }
  admin_.reset();  // civetweb takes up to its 2 s poll interval to stop
  handlers_.clear();
}

}  // namespace reception
