#include "services/common/grpc_status.h"

#include "gtest/gtest.h"

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

}  // namespace reception
