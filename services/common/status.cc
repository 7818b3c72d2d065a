#include "services/common/status.h"

#include <algorithm>

#include "google/rpc/error_details.pb.h"

namespace reception {

absl::Status InvalidField(absl::string_view field, absl::string_view rule) {
  absl::Status s = absl::InvalidArgumentError(absl::StrCat(field, " ", rule));
  google::rpc::BadRequest bad;
  auto* v = bad.add_field_violations();
  v->set_field(std::string(field));
  v->set_description(std::string(rule));
  s.SetPayload(kBadRequestUrl, absl::Cord(bad.SerializeAsString()));
  return s;
}

absl::Status WithReason(absl::Status s, absl::string_view reason) {
  if (s.ok()) return s;
  google::rpc::ErrorInfo info;
  info.set_reason(std::string(reason));
  info.set_domain(kErrorDomain);
  s.SetPayload(kErrorInfoUrl, absl::Cord(info.SerializeAsString()));
  return s;
}

absl::Status WithPrecondition(absl::Status s, absl::string_view type, absl::string_view subject,
                              absl::string_view description) {
  if (s.ok()) return s;
  google::rpc::PreconditionFailure failure;
  auto* v = failure.add_violations();
  v->set_type(std::string(type));
  v->set_subject(std::string(subject));
  v->set_description(std::string(description));
  s.SetPayload(kPreconditionFailureUrl, absl::Cord(failure.SerializeAsString()));
  return s;
}

absl::Status WithResource(absl::Status s, absl::string_view type, absl::string_view name) {
  if (s.ok()) return s;
  google::rpc::ResourceInfo info;
  info.set_resource_type(std::string(type));
  info.set_resource_name(std::string(name));
  info.set_description(std::string(s.message()));
  s.SetPayload(kResourceInfoUrl, absl::Cord(info.SerializeAsString()));
  return s;
}

absl::Status WithRetryDelay(absl::Status s, absl::Duration delay) {
  if (s.ok()) return s;
  google::rpc::RetryInfo retry;
  const int64_t millis = absl::ToInt64Milliseconds(std::max(delay, absl::ZeroDuration()));
  retry.mutable_retry_delay()->set_seconds(millis / 1000);
  retry.mutable_retry_delay()->set_nanos(static_cast<int32_t>(millis % 1000) * 1000000);
  s.SetPayload(kRetryInfoUrl, absl::Cord(retry.SerializeAsString()));
  return s;
}

}  // namespace reception
