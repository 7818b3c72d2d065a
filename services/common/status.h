// Status helpers shared by the domain libraries. Messages are written for the
// person who must act on them: they name the field path and the rule.
#ifndef RECEPTION_SERVICES_COMMON_STATUS_H_
#define RECEPTION_SERVICES_COMMON_STATUS_H_

#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

namespace reception {

// INVALID_ARGUMENT: "<field> <rule>", e.g. "case.content must not be empty".
// The status also carries a google.rpc.BadRequest payload (kBadRequestUrl)
// naming the field and the rule apart, which the gRPC edge sends as an
// error detail.
absl::Status InvalidField(absl::string_view field, absl::string_view rule);

// The payload type URL of InvalidField's google.rpc.BadRequest.
inline constexpr char kBadRequestUrl[] = "type.googleapis.com/google.rpc.BadRequest";
inline constexpr char kErrorInfoUrl[] = "type.googleapis.com/google.rpc.ErrorInfo";
inline constexpr char kPreconditionFailureUrl[] =
    "type.googleapis.com/google.rpc.PreconditionFailure";
inline constexpr char kResourceInfoUrl[] = "type.googleapis.com/google.rpc.ResourceInfo";
inline constexpr char kRetryInfoUrl[] = "type.googleapis.com/google.rpc.RetryInfo";
// The domain of every ErrorInfo the nodes send.
inline constexpr char kErrorDomain[] = "reception.gov.vn";

// `s` with a stable machine-readable reason (UPPER_SNAKE, documented in
// README.md, Errors), sent as google.rpc.ErrorInfo.reason.
absl::Status WithReason(absl::Status s, absl::string_view reason);
// `s` (FAILED_PRECONDITION) with a google.rpc.PreconditionFailure: what is
// wrong with which subject (type "STATE" for a lifecycle state).
absl::Status WithPrecondition(absl::Status s, absl::string_view type, absl::string_view subject,
                              absl::string_view description);
// `s` (NOT_FOUND, ALREADY_EXISTS) naming the resource, as
// google.rpc.ResourceInfo.
absl::Status WithResource(absl::Status s, absl::string_view type, absl::string_view name);
// `s` (UNAVAILABLE, RESOURCE_EXHAUSTED) telling the caller to retry after
// `delay` (google.rpc.RetryInfo), e.g. a peer link's current backoff.
// Without it those codes carry a 1 s RetryInfo.
absl::Status WithRetryDelay(absl::Status s, absl::Duration delay);

}  // namespace reception

// Evaluates an expression returning absl::Status; returns it if not OK.
#define RECEPTION_RETURN_IF_ERROR(expr) \
  do {                                  \
    ::absl::Status _status = (expr);    \
    if (!_status.ok()) return _status;  \
  } while (0)

#define RECEPTION_CONCAT_INNER(a, b) a##b
#define RECEPTION_CONCAT(a, b) RECEPTION_CONCAT_INNER(a, b)
// Assigns the value of an absl::StatusOr expression to lhs or returns its
// status.
#define RECEPTION_ASSIGN_OR_RETURN(lhs, expr) \
  RECEPTION_ASSIGN_OR_RETURN_IMPL(RECEPTION_CONCAT(_status_or_, __LINE__), lhs, expr)
#define RECEPTION_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                    \
  if (!tmp.ok()) return tmp.status();                   \
  lhs = std::move(*tmp)

#endif  // RECEPTION_SERVICES_COMMON_STATUS_H_
