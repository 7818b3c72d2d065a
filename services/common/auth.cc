#include "services/common/auth.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "services/common/authorization.h"
#include "services/common/logging.h"
#include "services/common/status.h"

namespace reception {
absl::string_view ClientMetadata(const grpc::CallbackServerContext& ctx, absl::string_view key) {
  const auto& md = ctx.client_metadata();
  auto it = md.find(grpc::string_ref(key.data(), key.size()));
  if (it == md.end()) return {};
  return absl::string_view(it->second.data(), it->second.size());
}

absl::StatusOr<Principal> Authenticator::Authenticate(
    const grpc::CallbackServerContext& context) const {
  auto p = Identify(context);
  if (!p.ok() || topology_ == nullptr) return p;
  const absl::string_view method = ClientMetadata(context, kMethodMetadata);
  if (auto s = Authorize(method, *p, *topology_, node_unit_); !s.ok()) {
    Log()->debug("event=access_denied method={} role={} unit={}", LogValue(method),
                 RoleName(p->role), LogValue(p->unit_code));
    return s;
  }
  return p;
}

namespace {

class MethodTagInterceptor final : public grpc::experimental::Interceptor {
 public:
  explicit MethodTagInterceptor(grpc::experimental::ServerRpcInfo* info)
      : method_(info->method() != nullptr ? info->method() : "") {}
  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::POST_RECV_INITIAL_METADATA)) {
      auto* md = methods->GetRecvInitialMetadata();
      if (md != nullptr) {
        md->erase(grpc::string_ref(kMethodMetadata));
        // gRPC keeps the method name alive for the whole call.
        md->emplace(grpc::string_ref(kMethodMetadata), grpc::string_ref(method_));
      }
    }
    methods->Proceed();
  }

 private:
  const char* method_;
};

class MethodTagFactory final : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new MethodTagInterceptor(info);
  }
};

}  // namespace

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
MakeMethodTagInterceptorFactory() {
  return std::make_unique<MethodTagFactory>();
}

void Authenticator::CountFailures(prometheus::Registry* registry) {
  failures_ = &prometheus::BuildCounter()
                   .Name("reception_auth_failures_total")
                   .Help("Calls refused as UNAUTHENTICATED, by reason")
                   .Register(*registry);
}

absl::Status Authenticator::Refuse(const grpc::CallbackServerContext& context,
                                   absl::string_view reason, std::string message) const {
  if (failures_ != nullptr) failures_->Add({{"reason", std::string(reason)}}).Increment();
  Log()->debug("event=auth_refused reason={} peer={}", reason, LogValue(context.peer()));
  return WithReason(absl::UnauthenticatedError(std::move(message)), absl::AsciiStrToUpper(reason));
}

bool IsLoopbackPeer(absl::string_view peer) {
  return absl::StartsWith(peer, "ipv4:127.") || absl::StartsWith(peer, "ipv6:[::1]") ||
         absl::StartsWith(peer, "ipv6:%5B::1%5D") || absl::StartsWith(peer, "ipv6:[::ffff:127.") ||
         absl::StartsWith(peer, "unix:");
}

absl::StatusOr<Principal> DevMetadataAuthenticator::Identify(
    const grpc::CallbackServerContext& context) const {
  const std::string peer = context.peer();
  const bool in_process = !in_process_secret_.empty() &&
                          ClientMetadata(context, kInProcessMetadata) == in_process_secret_;
  if (!IsLoopbackPeer(peer) && !in_process) {
    return Refuse(
        context, "not_loopback",
        absl::StrCat("development authentication accepts only loopback callers (this one is \"",
                     peer.substr(0, 64),
                     "\"); this node needs mTLS or token authentication to serve other hosts"));
  }
  Principal p;
  p.subject = std::string(ClientMetadata(context, "x-reception-subject"));
  const absl::string_view role = ClientMetadata(context, "x-reception-role");
  p.unit_code = std::string(ClientMetadata(context, "x-reception-unit"));
  if (p.subject.empty() || role.empty() || p.unit_code.empty()) {
    return Refuse(
        context, "missing_metadata",
        "metadata x-reception-subject, x-reception-role and x-reception-unit must all be set");
  }
  if (p.subject.size() > 128 || p.unit_code.size() > 32) {
    return Refuse(context, "bad_metadata", "x-reception-subject or x-reception-unit is too long");
  }
  auto r = ParseRole(role);
  if (!r) {
    return Refuse(context, "bad_metadata",
                  absl::StrCat("x-reception-role \"", role.substr(0, 32),
                               "\" is not one of officer, inspector, head, viewer, node"));
  }
  p.role = *r;
  return p;
}

void ForwardIdentity(const grpc::CallbackServerContext& from, const std::string& in_process_secret,
                     grpc::ClientContext* to, absl::Duration deadline) {
  for (const char* key :
       {"x-reception-subject", "x-reception-role", "x-reception-unit", "authorization"}) {
    auto it = from.client_metadata().find(key);
    if (it != from.client_metadata().end()) {
      to->AddMetadata(key, std::string(it->second.data(), it->second.size()));
    }
  }
  if (!in_process_secret.empty()) to->AddMetadata(kInProcessMetadata, in_process_secret);
  to->set_deadline(absl::ToChronoTime(absl::Now() + deadline));
}

void AddNodeIdentity(const std::string& unit_code, const std::string& in_process_secret,
                     grpc::ClientContext* to, absl::Duration deadline) {
  to->AddMetadata("x-reception-subject", absl::StrCat("node:", unit_code));
  to->AddMetadata("x-reception-role", "node");
  to->AddMetadata("x-reception-unit", unit_code);
  if (!in_process_secret.empty()) to->AddMetadata(kInProcessMetadata, in_process_secret);
  if (deadline != absl::InfiniteDuration())
    to->set_deadline(absl::ToChronoTime(absl::Now() + deadline));
}

}  // namespace reception
