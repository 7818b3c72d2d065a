#include "services/routing/routing_service.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/grpcpp.h"
#include "services/common/grpc_status.h"
#include "services/common/status.h"

namespace reception {
namespace {

struct RouteCall {
  grpc::ClientContext get_ctx, transfer_ctx;
  cases::v1::GetCaseRequest get;
  cases::v1::Case c;
  cases::v1::TransferCaseRequest transfer;
  cases::v1::Handoff handoff;
};

}  // namespace

bool RoutingGrpcService::Stubs(cases::v1::CaseService::Stub** cases,
                               cases::v1::HandoffService::Stub** handoffs) {
  absl::MutexLock lock(&mu_);
  if (!cases_) {
    auto channel = case_channel_();
    if (!channel) return false;
    cases_ = cases::v1::CaseService::NewStub(channel);
    handoffs_ = cases::v1::HandoffService::NewStub(channel);
  }
  *cases = cases_.get();
  *handoffs = handoffs_.get();
  return true;
}

grpc::ServerUnaryReactor* RoutingGrpcService::RouteCase(grpc::CallbackServerContext* ctx,
                                                        const routing::v1::RouteCaseRequest* req,
                                                        routing::v1::RoutingDecision* resp) {
  auto* reactor = ctx->DefaultReactor();
  auto principal = auth_->Authenticate(*ctx);
  if (!principal.ok()) {
    reactor->Finish(ToGrpcStatus(principal.status()));
    return reactor;
  }
  if (!absl::StartsWith(req->name(), "cases/") || req->name().size() > 64) {
    reactor->Finish(ToGrpcStatus(InvalidField("name", "must be cases/{number}")));
    return reactor;
  }
  if (req->apply() && req->request_id().empty()) {
    reactor->Finish(ToGrpcStatus(InvalidField("request_id", "must be set with apply")));
    return reactor;
  }
  cases::v1::CaseService::Stub* cases;
  cases::v1::HandoffService::Stub* handoffs;
  if (!Stubs(&cases, &handoffs)) {
    reactor->Finish(
        grpc::Status(grpc::StatusCode::UNAVAILABLE, "the case service is not reachable yet"));
    return reactor;
  }
  auto call = std::make_shared<RouteCall>();
  ForwardIdentity(*ctx, in_process_secret_, &call->get_ctx);
  ForwardIdentity(*ctx, in_process_secret_, &call->transfer_ctx);
  call->get.set_name(req->name());
  const bool apply = req->apply();
  const std::string request_id = req->request_id();
  // After the case is read: decide, and transfer if asked.
  auto decide = [=, this](bool repeats_guided) {
    auto decision = engine_->Decide(call->c, repeats_guided);
    if (!decision.ok()) return reactor->Finish(ToGrpcStatus(decision.status()));
    *resp = *decision;
    if (!apply || decision->action() != routing::v1::ROUTING_ACTION_TRANSFER) {
      return reactor->Finish(grpc::Status::OK);
    }
    call->transfer.set_name(call->c.name());
    call->transfer.set_destination_unit(decision->competent_unit());
    call->transfer.set_reason(decision->explanation());  // a few hundred characters
    call->transfer.set_request_id(request_id);
    handoffs->async()->TransferCase(&call->transfer_ctx, &call->transfer, &call->handoff,
                                    [call, reactor, resp](grpc::Status t) {
                                      if (t.ok()) *resp->mutable_handoff() = call->handoff;
                                      reactor->Finish(t);
                                    });
  };
  cases->async()->GetCase(&call->get_ctx, &call->get, &call->c, [=, this](grpc::Status s) {
    if (!s.ok()) return reactor->Finish(s);
    if (call->c.owner_unit() != unit_code_) {
      return reactor->Finish(ToGrpcStatus(absl::FailedPreconditionError(
          absl::StrCat(call->c.name(), " is owned by unit ", call->c.owner_unit(),
                       "; route it on that unit's node"))));
    }
    // The case service applies the guide-once rule along the whole chain of
    // repeats (one rule, GuideCase's): the case says whether it is spent.
    decide(call->c.matter_guidance_exhausted());
  });
  return reactor;
}

absl::StatusOr<std::unique_ptr<ServiceModule>> RoutingModule::Create(const NodeContext& context) {
  std::unique_ptr<RoutingModule> m(new RoutingModule());
  std::set<std::string> peers;
  for (const auto& p : context.config.federation().peers()) peers.insert(p.unit_code());
  m->engine_ = std::make_unique<RoutingEngine>(&context.topology, &context.rules,
                                               context.config.unit_code(), std::move(peers));
  std::function<std::shared_ptr<grpc::Channel>()> channel = context.local_channel;
  std::string secret = context.in_process_secret;
  if (!context.config.case_service_address().empty()) {
    secret.clear();
    const std::string address = context.config.case_service_address();
    channel = [address, unit = context.config.unit_code(), credentials = context.credentials] {
      return credentials->NewChannelTo(address, unit);
    };
  }
  m->service_ = std::make_unique<RoutingGrpcService>(m->engine_.get(), context.authenticator,
                                                     context.config.unit_code(), std::move(channel),
                                                     std::move(secret));
  return std::unique_ptr<ServiceModule>(std::move(m));
}

}  // namespace reception
