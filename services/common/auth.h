// Establishing the caller's principal from a call. The services depend only
// on Authenticator; mTLS and token authenticators slot in later.
#ifndef RECEPTION_SERVICES_COMMON_AUTH_H_
#define RECEPTION_SERVICES_COMMON_AUTH_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/client_context.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/server_interceptor.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/registry.h"
#include "services/common/principal.h"
#include "services/common/topology.h"

namespace reception {

class Authenticator {
 public:
  virtual ~Authenticator() = default;
  // Who is calling, and whether they may call this method: UNAUTHENTICATED
  // when no principal can be established, PERMISSION_DENIED when the access
  // table (authorization.h) has no rule allowing the call. Thread-safe.
  absl::StatusOr<Principal> Authenticate(const grpc::CallbackServerContext& context) const;

  // The principal alone (UNAUTHENTICATED when none).
  virtual absl::StatusOr<Principal> Identify(const grpc::CallbackServerContext& context) const = 0;

  // From now on every call is authorised by the access table against
  // `node_unit` in `topology` (which must outlive this), the method taken
  // from the server's MethodTagInterceptor. Call before serving. Without it
  // (unit tests of one service) calls are only authenticated.
  void EnforceAccessTable(const Topology* topology, std::string node_unit) {
    topology_ = topology;
    node_unit_ = std::move(node_unit);
  }

  // Counts refusals in reception_auth_failures_total{reason} from now on.
  // Call before serving.
  void CountFailures(prometheus::Registry* registry);

 protected:
  // UNAUTHENTICATED with `message`, counted under `reason` (a fixed word,
  // never anything the caller sent) and logged at debug level.
  absl::Status Refuse(const grpc::CallbackServerContext& context, absl::string_view reason,
                      std::string message) const;

 private:
  prometheus::Family<prometheus::Counter>* failures_ = nullptr;
  const Topology* topology_ = nullptr;
  std::string node_unit_;
};

// Tags every call with the method it is for (metadata kMethodMetadata,
// replacing anything the client sent under that key), so that Authenticate
// knows which rule applies. Installed by ServerHost.
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
MakeMethodTagInterceptorFactory();

// Development mode: reads x-reception-subject, x-reception-role and
// x-reception-unit from metadata, and only from loopback peers (anyone who can
// reach the port could claim any identity, so never beyond the machine).
class DevMetadataAuthenticator final : public Authenticator {
 public:
  // Calls between services of the same process travel over an in-process
  // channel, whose peer gRPC reports as "unknown": they are accepted when
  // they carry `in_process_secret` (random per process, never sent out) in
  // the x-reception-in-process metadata.
  explicit DevMetadataAuthenticator(std::string in_process_secret = "")
      : in_process_secret_(std::move(in_process_secret)) {}
  absl::StatusOr<Principal> Identify(const grpc::CallbackServerContext& context) const override;

 private:
  std::string in_process_secret_;
};

// The value of request metadata `key`; empty when absent.
absl::string_view ClientMetadata(const grpc::CallbackServerContext& context, absl::string_view key);

// Metadata key carrying the in-process secret.
inline constexpr char kInProcessMetadata[] = "x-reception-in-process";

// A call made on the caller's behalf carries the caller's identity (and, on
// the in-process channel, this process's secret; never the caller's copy),
// with a deadline.
void ForwardIdentity(const grpc::CallbackServerContext& from, const std::string& in_process_secret,
                     grpc::ClientContext* to, absl::Duration deadline = absl::Seconds(10));

// Identifies this node itself on a call it makes (role node).
void AddNodeIdentity(const std::string& unit_code, const std::string& in_process_secret,
                     grpc::ClientContext* to, absl::Duration deadline);

// True for "ipv4:127.x.x.x:port", "ipv6:[::1]:port", "unix:..." peers.
bool IsLoopbackPeer(absl::string_view peer);

}  // namespace reception

#endif  // RECEPTION_SERVICES_COMMON_AUTH_H_
