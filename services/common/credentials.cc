#include "services/common/credentials.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/tls_certificate_provider.h"
#include "grpcpp/security/tls_certificate_verifier.h"
#include "grpcpp/security/tls_credentials_options.h"
#include "grpcpp/server_context.h"

namespace reception {
std::shared_ptr<const Credentials> Credentials::FromConfig(const config::v1::AuthConfig& auth) {
  auto c = std::make_shared<Credentials>();
  if (auth.mode() != config::v1::AUTH_MODE_MTLS) {
    c->server_ = grpc::InsecureServerCredentials();
    c->channel_ = grpc::InsecureChannelCredentials();
    return c;
  }
  const auto& tls = auth.tls();
  // One provider: the server and every channel present the same files,
  // re-read every refresh interval.
  auto provider = std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
      tls.key_file(), tls.cert_file(), tls.ca_file(),
      static_cast<unsigned int>(tls.refresh_seconds()));
  grpc::experimental::TlsServerCredentialsOptions server(provider);
  server.watch_root_certs();
  server.watch_identity_key_cert_pairs();
  // A client certificate, when presented, must verify; people's calls
  // without one are judged by the authenticator.
  server.set_cert_request_type(GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY);
  c->server_ = grpc::experimental::TlsServerCredentials(server);
  grpc::experimental::TlsChannelCredentialsOptions channel;
  channel.set_certificate_provider(provider);
  channel.watch_root_certs();
  channel.watch_identity_key_cert_pairs();
  c->channel_ = grpc::experimental::TlsCredentials(channel);
  c->tls_ = true;
  c->provider_ = provider;
  if (!tls.trust_domain().empty()) c->trust_domain_ = tls.trust_domain();
  return c;
}

absl::StatusOr<std::shared_ptr<const Credentials>> Credentials::ForClient(
    const std::string& ca_file, const std::string& cert_file, const std::string& key_file,
    const std::string& trust_domain) {
  if (cert_file.empty() != key_file.empty()) {
    return absl::InvalidArgumentError("--cert and --key go together");
  }
  auto c = std::make_shared<Credentials>();
  std::shared_ptr<grpc::experimental::FileWatcherCertificateProvider> provider;
  if (cert_file.empty()) {
    provider = std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(ca_file, 3600);
  } else {
    provider = std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
        key_file, cert_file, ca_file, 3600);
  }
  grpc::experimental::TlsChannelCredentialsOptions channel;
  channel.set_certificate_provider(provider);
  channel.watch_root_certs();
  if (!cert_file.empty()) channel.watch_identity_key_cert_pairs();
  c->channel_ = grpc::experimental::TlsCredentials(channel);
  c->tls_ = true;
  c->provider_ = provider;
  if (!trust_domain.empty()) c->trust_domain_ = trust_domain;
  return std::shared_ptr<const Credentials>(std::move(c));
}

std::shared_ptr<grpc::Channel> Credentials::NewChannel(const std::string& address,
                                                       const grpc::ChannelArguments& args) const {
  return grpc::CreateCustomChannel(address, channel_, args);
}

namespace {

// After the chain verified against the CA: the server's certificate must
// carry the expected SPIFFE ID among its URI SANs.
class NodeIdVerifier final : public grpc::experimental::ExternalCertificateVerifier {
 public:
  explicit NodeIdVerifier(std::string expected) : expected_(std::move(expected)) {}
  bool Verify(grpc::experimental::TlsCustomVerificationCheckRequest* request,
              std::function<void(grpc::Status)>, grpc::Status* sync_status) override {
    for (const auto& uri : request->uri_names()) {
      if (absl::string_view(uri.data(), uri.size()) == expected_) {
        *sync_status = grpc::Status::OK;
        return true;
      }
    }
    *sync_status = grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                                absl::StrCat("the server's certificate is not ", expected_));
    return true;
  }
  void Cancel(grpc::experimental::TlsCustomVerificationCheckRequest*) override {}

 private:
  const std::string expected_;
};

}  // namespace

std::string Credentials::NodeId(absl::string_view unit) const {
  return absl::StrCat("spiffe://", trust_domain_, "/unit/", unit, "/node");
}

std::shared_ptr<grpc::Channel> Credentials::NewChannelTo(const std::string& address,
                                                         const std::string& unit,
                                                         const grpc::ChannelArguments& args) const {
  if (!tls_ || provider_ == nullptr) return NewChannel(address, args);
  grpc::experimental::TlsChannelCredentialsOptions options;
  options.set_certificate_provider(provider_);
  options.watch_root_certs();
  options.watch_identity_key_cert_pairs();
  options.set_certificate_verifier(
      grpc::experimental::ExternalCertificateVerifier::Create<NodeIdVerifier>(NodeId(unit)));
  // The SPIFFE ID is the identity checked; the address may be any name.
  options.set_check_call_host(false);
  return grpc::CreateCustomChannel(address, grpc::experimental::TlsCredentials(options), args);
}

std::optional<std::string> NodeUnitFromSpiffeId(absl::string_view id,
                                                absl::string_view trust_domain) {
  if (!absl::ConsumePrefix(&id, "spiffe://") || !absl::ConsumePrefix(&id, trust_domain) ||
      !absl::ConsumePrefix(&id, "/unit/") || !absl::ConsumeSuffix(&id, "/node")) {
    return std::nullopt;
  }
  if (id.empty() || id.size() > 32 || absl::StrContains(id, "/")) return std::nullopt;
  return std::string(id);
}

absl::StatusOr<Principal> MtlsAuthenticator::FromToken(const grpc::CallbackServerContext& context,
                                                       absl::string_view authorization) const {
  absl::string_view token = authorization;
  if (!absl::ConsumePrefix(&token, "Bearer ") && !absl::ConsumePrefix(&token, "bearer ")) {
    return Refuse(context, "malformed_token",
                  "the authorization metadata must be \"Bearer <token>\"");
  }
  if (tokens_ == nullptr) {
    return Refuse(context, "tokens_not_enabled",
                  "this node accepts no bearer tokens (auth.jwt is not configured); nodes "
                  "present client certificates");
  }
  TokenRefusal refusal;
  auto p = tokens_->Verify(token, &refusal);
  if (!p.ok()) return Refuse(context, refusal.reason, refusal.message);
  return p;
}

absl::StatusOr<Principal> MtlsAuthenticator::Identify(
    const grpc::CallbackServerContext& context) const {
  const absl::string_view authorization = ClientMetadata(context, "authorization");
  // Services of this process call each other over the in-process channel,
  // forwarding the caller's token or (development, the node itself) metadata.
  const std::string& secret = dev_secret();
  if (!secret.empty() && ClientMetadata(context, kInProcessMetadata) == secret) {
    if (!authorization.empty() && tokens_ != nullptr) return FromToken(context, authorization);
    return dev_.Identify(context);
  }
  auto auth = context.auth_context();
  if (auth != nullptr && auth->IsPeerAuthenticated()) {
    for (const char* property : {GRPC_PEER_SPIFFE_ID_PROPERTY_NAME, GRPC_PEER_URI_PROPERTY_NAME}) {
      for (const auto& value : auth->FindPropertyValues(property)) {
        if (auto unit = NodeUnitFromSpiffeId(absl::string_view(value.data(), value.size()),
                                             trust_domain_)) {
          if (!authorization.empty() && tokens_ != nullptr) {
            return FromToken(context, authorization);
          }
          return Principal{absl::StrCat("node:", *unit), Role::kNode, *unit};
        }
      }
    }
    return Refuse(
        context, "certificate_names_no_node",
        absl::StrCat("the client certificate names no node of trust domain ", trust_domain_,
                     " (its URI SAN must be spiffe://", trust_domain_, "/unit/<unit code>/node)"));
  }
  if (!authorization.empty()) return FromToken(context, authorization);
  if (loopback_people_ && IsLoopbackPeer(context.peer())) {
    auto p = dev_.Identify(context);
    if (!p.ok()) return p;
    if (p->role == Role::kNode) {
      return Refuse(context, "node_without_certificate",
                    "role node needs a client certificate naming the node (mTLS)");
    }
    return p;
  }
  return Refuse(context, "no_credentials",
                tokens_ != nullptr
                    ? "this node requires a client certificate signed by the federation's CA "
                      "(nodes) or \"authorization: Bearer <token>\" from the identity provider "
                      "(people and department systems)"
                    : "this node requires a client certificate signed by the federation's CA "
                      "(nodes); bearer tokens are not enabled here (auth.jwt)");
}

}  // namespace reception
