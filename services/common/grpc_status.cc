#include "services/common/grpc_status.h"

#include <atomic>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "google/rpc/error_details.pb.h"
#include "services/common/logging.h"
#include "services/common/status.h"

namespace reception {

namespace {

// The reason an error carries when the code that made it named none.
const char* DefaultReason(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kInvalidArgument:
      return "INVALID_ARGUMENT";
    case absl::StatusCode::kNotFound:
      return "NOT_FOUND";
    case absl::StatusCode::kAlreadyExists:
      return "ALREADY_EXISTS";
    case absl::StatusCode::kPermissionDenied:
      return "PERMISSION_DENIED";
    case absl::StatusCode::kUnauthenticated:
      return "UNAUTHENTICATED";
    case absl::StatusCode::kFailedPrecondition:
      return "FAILED_PRECONDITION";
    case absl::StatusCode::kAborted:
      return "ABORTED";
    case absl::StatusCode::kUnavailable:
      return "UNAVAILABLE";
    case absl::StatusCode::kResourceExhausted:
      return "RESOURCE_EXHAUSTED";
    case absl::StatusCode::kDeadlineExceeded:
      return "DEADLINE_EXCEEDED";
    case absl::StatusCode::kOutOfRange:
      return "OUT_OF_RANGE";
    case absl::StatusCode::kUnimplemented:
      return "UNIMPLEMENTED";
    case absl::StatusCode::kCancelled:
      return "CANCELLED";
    default:
      return "INTERNAL";
  }
}

template <typename Message>
bool Payload(const absl::Status& s, absl::string_view url, Message* out) {
  auto cord = s.GetPayload(url);
  return cord.has_value() && out->ParseFromString(std::string(*cord));
}

}  // namespace

google::rpc::Status ErrorDetails(const absl::Status& status, const std::string& message) {
  google::rpc::Status out;
  out.set_code(static_cast<int>(status.code()));
  out.set_message(message);
  google::rpc::ErrorInfo info;
  if (!Payload(status, kErrorInfoUrl, &info)) {
    info.set_reason(DefaultReason(status.code()));
    info.set_domain(kErrorDomain);
  }
  google::rpc::BadRequest bad;
  const bool has_bad = Payload(status, kBadRequestUrl, &bad);
  if (has_bad && info.reason() == "INVALID_ARGUMENT") info.set_reason("INVALID_FIELD");
  if (has_bad && bad.field_violations_size() > 0) {
    (*info.mutable_metadata())["field"] = bad.field_violations(0).field();
  }
  out.add_details()->PackFrom(info);
  if (has_bad) out.add_details()->PackFrom(bad);
  google::rpc::PreconditionFailure failure;
  if (Payload(status, kPreconditionFailureUrl, &failure)) {
    out.add_details()->PackFrom(failure);
  } else if (status.code() == absl::StatusCode::kFailedPrecondition) {
    failure.add_violations()->set_description(message);
    out.add_details()->PackFrom(failure);
  }
  google::rpc::ResourceInfo resource;
  if (Payload(status, kResourceInfoUrl, &resource)) {
    out.add_details()->PackFrom(resource);
  } else if (status.code() == absl::StatusCode::kNotFound ||
             status.code() == absl::StatusCode::kAlreadyExists) {
    resource.set_description(message);
    out.add_details()->PackFrom(resource);
  }
  if (status.code() == absl::StatusCode::kUnavailable ||
      status.code() == absl::StatusCode::kResourceExhausted) {
    google::rpc::RetryInfo retry;
    if (!Payload(status, kRetryInfoUrl, &retry)) retry.mutable_retry_delay()->set_seconds(1);
    out.add_details()->PackFrom(retry);
  }
  return out;
}

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  const auto code = static_cast<grpc::StatusCode>(static_cast<int>(status.code()));
  switch (status.code()) {
    case absl::StatusCode::kInternal:
    case absl::StatusCode::kUnknown:
    case absl::StatusCode::kDataLoss: {
      static std::atomic<uint64_t> next{1};
      const uint64_t ref = next.fetch_add(1);
      Log()->error("event=internal_error ref={} code={} detail={}", ref,
                   absl::StatusCodeToString(status.code()), LogValue(status.message()));
      const std::string message = absl::StrCat("internal error (reference ", ref,
                                               "); the operator can find it in the node's log");
      // Nothing of the internal detail leaves: the reason and the reference.
      google::rpc::Status details;
      details.set_code(static_cast<int>(status.code()));
      details.set_message(message);
      google::rpc::ErrorInfo info;
      info.set_reason("INTERNAL");
      info.set_domain(kErrorDomain);
      (*info.mutable_metadata())["reference"] = absl::StrCat(ref);
      details.add_details()->PackFrom(info);
      return grpc::Status(code, message, details.SerializeAsString());
    }
    default: {
      const std::string message = PrintableMessage(status.message());
      return grpc::Status(code, message, ErrorDetails(status, message).SerializeAsString());
    }
  }
}

std::string PrintableMessage(absl::string_view message) {
  // Messages name fields and sometimes quote what was sent: a control
  // character sent in a value must not come back raw (terminals, logs of the
  // client). Backslash escapes, everything else as it is (UTF-8 included).
  std::string out;
  out.reserve(message.size());
  for (char c : message) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      absl::StrAppend(&out, c == '\n'   ? "\\n"
                            : c == '\r' ? "\\r"
                            : c == '\t' ? "\\t"
                                        : absl::StrFormat("\\x%02x", u));
    } else {
      out.push_back(c);
    }
  }
  return out;
}

Outbox::Verdict DeliveryVerdict(const grpc::Status& status) {
  switch (status.error_code()) {
    case grpc::StatusCode::OK:
      return Outbox::Verdict::kDelivered;
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::PERMISSION_DENIED:
    case grpc::StatusCode::FAILED_PRECONDITION:
    case grpc::StatusCode::NOT_FOUND:
    case grpc::StatusCode::ALREADY_EXISTS:
      return Outbox::Verdict::kRefused;
    default:
      return Outbox::Verdict::kRetry;
  }
}

const char* GrpcCodeName(grpc::StatusCode code) {
  static const char* kNames[] = {"OK",
                                 "CANCELLED",
                                 "UNKNOWN",
                                 "INVALID_ARGUMENT",
                                 "DEADLINE_EXCEEDED",
                                 "NOT_FOUND",
                                 "ALREADY_EXISTS",
                                 "PERMISSION_DENIED",
                                 "RESOURCE_EXHAUSTED",
                                 "FAILED_PRECONDITION",
                                 "ABORTED",
                                 "OUT_OF_RANGE",
                                 "UNIMPLEMENTED",
                                 "INTERNAL",
                                 "UNAVAILABLE",
                                 "DATA_LOSS",
                                 "UNAUTHENTICATED"};
  const int i = static_cast<int>(code);
  return (i >= 0 && i <= 16) ? kNames[i] : "UNKNOWN";
}

}  // namespace reception
