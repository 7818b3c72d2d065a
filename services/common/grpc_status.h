// The one mapping from internal absl::Status to the grpc::Status a client
// sees. Codes map one to one; for INTERNAL, UNKNOWN and DATA_LOSS the message
// is replaced by a reference number and the real text is logged, so storage
// errors and internals never reach a client. Every error also carries a
// google.rpc.Status (trailer grpc-status-details-bin) whose details a
// program can act on: always an ErrorInfo (a stable reason, the domain
// "reception.gov.vn", the field for an invalid one), a BadRequest naming
// the field and the rule (INVALID_ARGUMENT from InvalidField), a
// PreconditionFailure (FAILED_PRECONDITION), a ResourceInfo (NOT_FOUND,
// ALREADY_EXISTS), a RetryInfo (UNAVAILABLE, RESOURCE_EXHAUSTED).
#ifndef RECEPTION_SERVICES_COMMON_GRPC_STATUS_H_
#define RECEPTION_SERVICES_COMMON_GRPC_STATUS_H_

#include <string>

#include "absl/status/status.h"
#include "google/rpc/status.pb.h"
#include "grpcpp/support/status.h"
#include "services/common/outbox.h"

namespace reception {

grpc::Status ToGrpcStatus(const absl::Status& status);

// The google.rpc.Status ToGrpcStatus sends for a non-internal `status`
// whose client-facing text is `message`.
google::rpc::Status ErrorDetails(const absl::Status& status, const std::string& message);

// "NOT_FOUND", "UNAVAILABLE" ...: a code's name as gRPC spells it.
const char* GrpcCodeName(grpc::StatusCode code);

// `message` with control characters escaped (\n, \x01 ...), as sent to
// clients.
std::string PrintableMessage(absl::string_view message);

// What a peer's answer to an outbox delivery means: delivered; refused for
// good (INVALID_ARGUMENT, PERMISSION_DENIED, FAILED_PRECONDITION, NOT_FOUND,
// ALREADY_EXISTS: the peer will never take it as it is); otherwise retry.
Outbox::Verdict DeliveryVerdict(const grpc::Status& status);

}  // namespace reception

#endif  // RECEPTION_SERVICES_COMMON_GRPC_STATUS_H_
