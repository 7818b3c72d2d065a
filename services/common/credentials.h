// Transport credentials of a node, in one place: the server's, and every
// channel the node opens (handoff delivery, read forwarding, media bridges,
// scheduling delivery, minutes attachment, routing -> case). In development
// both are plaintext on loopback; in mTLS mode both present this node's
// certificate and verify the other side against the CA bundle, the files
// read again every refresh interval so certificates rotate without a
// restart.
#ifndef RECEPTION_SERVICES_COMMON_CREDENTIALS_H_
#define RECEPTION_SERVICES_COMMON_CREDENTIALS_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "grpcpp/channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/security/tls_certificate_provider.h"
#include "grpcpp/support/channel_arguments.h"
#include "reception/config/v1/config.pb.h"
#include "services/common/auth.h"
#include "services/common/jwt.h"

namespace reception {

class Credentials {
 public:
  // Plaintext (development) unless `auth` is in mTLS mode.
  static std::shared_ptr<const Credentials> FromConfig(const config::v1::AuthConfig& auth);
  // TLS for a client such as receptionctl: verify the server against
  // `ca_file`; present `cert_file`/`key_file` when given.
  static absl::StatusOr<std::shared_ptr<const Credentials>> ForClient(
      const std::string& ca_file, const std::string& cert_file, const std::string& key_file,
      const std::string& trust_domain = "reception.local");

  bool tls() const { return tls_; }
  std::shared_ptr<grpc::ServerCredentials> server() const { return server_; }
  std::shared_ptr<grpc::ChannelCredentials> channel() const { return channel_; }

  // THE channel factory: every outgoing channel of the node comes from here.
  // A client (receptionctl) checks the server's certificate against the CA
  // and the address's host name.
  std::shared_ptr<grpc::Channel> NewChannel(
      const std::string& address,
      const grpc::ChannelArguments& args = grpc::ChannelArguments()) const;
  // A channel to the node of `unit` (a peer, or this node's own split
  // services): in mTLS mode the server's certificate must verify against
  // the CA and name exactly spiffe://<trust domain>/unit/<unit>/node,
  // whatever the address, so a node at a wrong or hijacked address is
  // refused before anything is sent.
  std::shared_ptr<grpc::Channel> NewChannelTo(
      const std::string& address, const std::string& unit,
      const grpc::ChannelArguments& args = grpc::ChannelArguments()) const;

  // The SPIFFE ID of the node of `unit`.
  std::string NodeId(absl::string_view unit) const;

 private:
  bool tls_ = false;
  std::string trust_domain_ = "reception.local";
  std::shared_ptr<grpc::experimental::CertificateProviderInterface> provider_;
  std::shared_ptr<grpc::ServerCredentials> server_;
  std::shared_ptr<grpc::ChannelCredentials> channel_;
};

// "spiffe://<trust_domain>/unit/<unit>/node" -> unit; nullopt otherwise.
std::optional<std::string> NodeUnitFromSpiffeId(absl::string_view id,
                                                absl::string_view trust_domain);

// mTLS mode: a caller with a verified client certificate is the node of the
// unit its SPIFFE ID names; a caller without one presents a bearer token
// (when `tokens` is set) naming a person or department system; calls over
// the in-process channel carry the process secret as in development; people's
// metadata from loopback only when `loopback_people` (never role node).
class MtlsAuthenticator final : public Authenticator {
 public:
  // A call from a node certificate that carries a bearer token is a node
  // relaying a person's call (a bridge point relaying to the room's host,
  // reception-routing forwarding to the case service, a read forwarded to
  // the owner): the token, verified here too, is the principal. The
  // certificate alone is the node.
  MtlsAuthenticator(std::string trust_domain, std::string in_process_secret, bool loopback_people,
                    std::unique_ptr<JwtVerifier> tokens = nullptr)
      : trust_domain_(std::move(trust_domain)),
        secret_(in_process_secret),
        dev_(std::move(in_process_secret)),
        loopback_people_(loopback_people),
        tokens_(std::move(tokens)) {}
  absl::StatusOr<Principal> Identify(const grpc::CallbackServerContext& context) const override;

 private:
  const std::string& dev_secret() const { return secret_; }
  // The person a bearer token names (UNAUTHENTICATED, counted, if it fails).
  absl::StatusOr<Principal> FromToken(const grpc::CallbackServerContext& context,
                                      absl::string_view authorization) const;
  std::string trust_domain_;
  std::string secret_;
  DevMetadataAuthenticator dev_;
  bool loopback_people_;
  std::unique_ptr<JwtVerifier> tokens_;
};

}  // namespace reception

#endif  // RECEPTION_SERVICES_COMMON_CREDENTIALS_H_
