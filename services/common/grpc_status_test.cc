#include "services/common/grpc_status.h"

#include "google/rpc/error_details.pb.h"
#include "gtest/gtest.h"
#include "services/common/status.h"

namespace reception {
namespace {

struct Case {
  absl::StatusCode absl_code;
  grpc::StatusCode grpc_code;
  bool message_kept;
};

// Every canonical code maps to the same gRPC code; internal details of
// INTERNAL, UNKNOWN and DATA_LOSS never reach the client.
TEST(ToGrpcStatus, MapsEveryCode) {
  const Case cases[] = {
      {absl::StatusCode::kCancelled, grpc::CANCELLED, true},
      {absl::StatusCode::kUnknown, grpc::UNKNOWN, false},
      {absl::StatusCode::kInvalidArgument, grpc::INVALID_ARGUMENT, true},
      {absl::StatusCode::kDeadlineExceeded, grpc::DEADLINE_EXCEEDED, true},
      {absl::StatusCode::kNotFound, grpc::NOT_FOUND, true},
      {absl::StatusCode::kAlreadyExists, grpc::ALREADY_EXISTS, true},
      {absl::StatusCode::kPermissionDenied, grpc::PERMISSION_DENIED, true},
      {absl::StatusCode::kResourceExhausted, grpc::RESOURCE_EXHAUSTED, true},
      {absl::StatusCode::kFailedPrecondition, grpc::FAILED_PRECONDITION, true},
      {absl::StatusCode::kAborted, grpc::ABORTED, true},
      {absl::StatusCode::kOutOfRange, grpc::OUT_OF_RANGE, true},
      {absl::StatusCode::kUnimplemented, grpc::UNIMPLEMENTED, true},
      {absl::StatusCode::kInternal, grpc::INTERNAL, false},
      {absl::StatusCode::kUnavailable, grpc::UNAVAILABLE, true},
      {absl::StatusCode::kDataLoss, grpc::DATA_LOSS, false},
      {absl::StatusCode::kUnauthenticated, grpc::UNAUTHENTICATED, true},
  };
  for (const auto& c : cases) {
    const std::string detail = "IO error: /var/lib/reception/case/000012.log: No space left";
    grpc::Status g = ToGrpcStatus(absl::Status(c.absl_code, detail));
    EXPECT_EQ(g.error_code(), c.grpc_code) << absl::StatusCodeToString(c.absl_code);
    if (c.message_kept) {
      EXPECT_EQ(g.error_message(), detail);
    } else {
      EXPECT_EQ(g.error_message().find("IO error"), std::string::npos);
      EXPECT_NE(g.error_message().find("internal error (reference "), std::string::npos);
    }
  }
  EXPECT_TRUE(ToGrpcStatus(absl::OkStatus()).ok());
}

}  // namespace
TEST(GrpcStatus, ControlCharactersSentInAValueDoNotComeBackRaw) {
  const grpc::Status s =
      ToGrpcStatus(absl::InvalidArgumentError("unit \"48\n\x1b[2J\" is not a unit"));
  EXPECT_EQ(s.error_message(), "unit \"48\\n\\x1b[2J\" is not a unit");
  EXPECT_EQ(ToGrpcStatus(absl::NotFoundError("Phường Hải Châu")).error_message(),
            "Phường Hải Châu");
}

// Every error carries a google.rpc.Status a program can act on: the code and
// message again, an ErrorInfo with a stable reason, and the detail its
// class calls for; nothing internal leaves with INTERNAL.
TEST(GrpcStatus, EveryErrorCarriesDetailsAProgramCanActOn) {
  auto details = [](const grpc::Status& g) {
    google::rpc::Status out;
    EXPECT_TRUE(out.ParseFromString(g.error_details())) << g.error_message();
    EXPECT_EQ(out.code(), static_cast<int>(g.error_code()));
    EXPECT_EQ(out.message(), g.error_message());
    return out;
  };
  auto info = [](const google::rpc::Status& s) {
    google::rpc::ErrorInfo i;
    EXPECT_GE(s.details_size(), 1);
    EXPECT_TRUE(s.details(0).UnpackTo(&i));
    EXPECT_EQ(i.domain(), "reception.gov.vn");
    return i;
  };
  // A field that breaks a rule: the field and the rule apart.
  auto bad =
      details(ToGrpcStatus(InvalidField("case.petitioners[0].citizen_id", "must be 12 digits")));
  EXPECT_EQ(info(bad).reason(), "INVALID_FIELD");
  EXPECT_EQ(info(bad).metadata().at("field"), "case.petitioners[0].citizen_id");
  ASSERT_EQ(bad.details_size(), 2);
  google::rpc::BadRequest request;
  ASSERT_TRUE(bad.details(1).UnpackTo(&request));
  ASSERT_EQ(request.field_violations_size(), 1);
  EXPECT_EQ(request.field_violations(0).field(), "case.petitioners[0].citizen_id");
  EXPECT_EQ(request.field_violations(0).description(), "must be 12 digits");
  // A refused transition: its own reason and what the state allows.
  auto refused = details(ToGrpcStatus(WithReason(
      WithPrecondition(absl::FailedPreconditionError("AcceptCase is not allowed"), "STATE",
                       "RECEIVED", "AcceptCase is allowed only from CLASSIFIED"),
      "TRANSITION_NOT_ALLOWED")));
  EXPECT_EQ(info(refused).reason(), "TRANSITION_NOT_ALLOWED");
  google::rpc::PreconditionFailure failure;
  ASSERT_EQ(refused.details_size(), 2);
  ASSERT_TRUE(refused.details(1).UnpackTo(&failure));
  EXPECT_EQ(failure.violations(0).type(), "STATE");
  EXPECT_EQ(failure.violations(0).subject(), "RECEIVED");
  // Not found: the resource; a reason by code when the code named none.
  auto missing = details(ToGrpcStatus(WithResource(
      absl::NotFoundError("case cases/x does not exist"), "reception.cases.v1.Case", "cases/x")));
  EXPECT_EQ(info(missing).reason(), "NOT_FOUND");
  google::rpc::ResourceInfo resource;
  ASSERT_TRUE(missing.details(1).UnpackTo(&resource));
  EXPECT_EQ(resource.resource_type(), "reception.cases.v1.Case");
  EXPECT_EQ(resource.resource_name(), "cases/x");
  // Unavailable: when to retry.
  auto busy = details(ToGrpcStatus(absl::UnavailableError("peer 49 is unreachable")));
  EXPECT_EQ(info(busy).reason(), "UNAVAILABLE");
  google::rpc::RetryInfo retry;
  ASSERT_TRUE(busy.details(1).UnpackTo(&retry));
  EXPECT_EQ(retry.retry_delay().seconds(), 1);
  // ... or after the peer's own backoff when the code knows it.
  auto later = details(ToGrpcStatus(
      WithRetryDelay(absl::UnavailableError("host 49 is unreachable"), absl::Milliseconds(12500))));
  ASSERT_TRUE(later.details(1).UnpackTo(&retry));
  EXPECT_EQ(retry.retry_delay().seconds(), 12);
  EXPECT_EQ(retry.retry_delay().nanos(), 500000000);
  // Internal: the reference, never the text.
  auto internal = details(ToGrpcStatus(absl::InternalError("IO error: /var/lib/x: disk full")));
  EXPECT_EQ(info(internal).reason(), "INTERNAL");
  EXPECT_FALSE(info(internal).metadata().at("reference").empty());
  EXPECT_EQ(internal.SerializeAsString().find("disk full"), std::string::npos);
}

}  // namespace reception
