#include "services/common/grpc_status.h"

#include <atomic>

#include "absl/strings/str_cat.h"
#include "services/common/logging.h"

namespace reception {

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
      return grpc::Status(code, absl::StrCat("internal error (reference ", ref,
                                             "); the operator can find it in the node's log"));
    }
    default:
      return grpc::Status(code, std::string(status.message()));
  }
}

}  // namespace reception
