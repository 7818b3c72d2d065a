#include "services/common/unit_service.h"

#include <algorithm>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "services/common/civil_date.h"
#include "services/common/grpc_status.h"
#include "services/common/status.h"

namespace reception {

namespace {

constexpr int kDefaultPageSize = 100;
constexpr int kMaxPageSize = 1000;

absl::StatusOr<absl::CivilDay> AsOf(const type::v1::Date& d, absl::CivilDay today) {
  if (IsUnset(d)) return today;
  return ToCivilDay(d, "as_of");
}

bool InForce(const Topology::Unit& u, absl::CivilDay day) {
  if (u.has_valid_from() && !IsUnset(u.valid_from()) &&
      day < absl::CivilDay(u.valid_from().year(), u.valid_from().month(), u.valid_from().day())) {
    return false;
  }
  if (u.has_valid_to() && !IsUnset(u.valid_to()) &&
      day > absl::CivilDay(u.valid_to().year(), u.valid_to().month(), u.valid_to().day())) {
    return false;
  }
  return true;
}

// "units/{code}" -> code; INVALID_ARGUMENT naming `field` otherwise.
absl::StatusOr<std::string> UnitCode(absl::string_view name, absl::string_view field) {
  if (!absl::ConsumePrefix(&name, "units/") || name.empty() || name.size() > 64) {
    return InvalidField(field, "must be a unit name of the form units/{code}");
  }
  return std::string(name);
}

}  // namespace

units::v1::Unit UnitDirectory::ToProto(const Topology::Unit& u, absl::CivilDay as_of) const {
  units::v1::Unit out;
  out.set_name(absl::StrCat("units/", u.code()));
  out.set_code(u.code());
  out.set_display_name(u.name());
  out.set_level(u.level());
  if (!u.parent_code().empty()) out.set_parent(absl::StrCat("units/", u.parent_code()));
  out.set_remote_area(u.remote_area());
  if (u.has_valid_from()) *out.mutable_valid_from() = u.valid_from();
  if (u.has_valid_to()) *out.mutable_valid_to() = u.valid_to();
  if (!u.successor_code().empty()) out.set_successor(absl::StrCat("units/", u.successor_code()));
  out.set_in_force(InForce(u, as_of));
  out.set_federated(federated_.count(u.code()) > 0);
  return out;
}

absl::StatusOr<units::v1::Unit> UnitDirectory::Get(const units::v1::GetUnitRequest& r) const {
  RECEPTION_ASSIGN_OR_RETURN(std::string code, UnitCode(r.name(), "name"));
  RECEPTION_ASSIGN_OR_RETURN(absl::CivilDay as_of, AsOf(r.as_of(), clock_->Today()));
  const Topology::Unit* u = topology_->Find(code);
  if (u == nullptr) {
    return WithResource(
        absl::NotFoundError(absl::StrCat("units/", code.substr(0, 64),
                                         " is not a unit of topology ", topology_->name())),
        "reception.units.v1.Unit", absl::StrCat("units/", code.substr(0, 64)));
  }
  return ToProto(*u, as_of);
}

absl::StatusOr<units::v1::ListUnitsResponse> UnitDirectory::List(
    const units::v1::ListUnitsRequest& r) const {
  RECEPTION_ASSIGN_OR_RETURN(absl::CivilDay as_of, AsOf(r.as_of(), clock_->Today()));
  if (r.page_size() < 0 || r.page_size() > kMaxPageSize) {
    return InvalidField("page_size", absl::StrCat("must be between 0 and ", kMaxPageSize,
                                                  " (0: ", kDefaultPageSize, ")"));
  }
  std::string parent;
  if (!r.parent().empty()) {
    RECEPTION_ASSIGN_OR_RETURN(parent, UnitCode(r.parent(), "parent"));
    if (topology_->Find(parent) == nullptr) {
      return InvalidField("parent", absl::StrCat("names no unit of topology ", topology_->name()));
    }
  }
  if (!type::v1::UnitLevel_IsValid(r.level())) {
    return InvalidField("level", "must be a unit level");
  }
  // The token is the last code returned, bound to nothing else: the order
  // (by code) is stable, and the filters are the caller's to keep.
  std::string after;
  if (!r.page_token().empty()) {
    if (!absl::WebSafeBase64Unescape(r.page_token(), &after) || topology_->Find(after) == nullptr) {
      return InvalidField("page_token", "is not a token ListUnits returned");
    }
  }
  std::vector<const Topology::Unit*> matches;
  for (const auto& u : topology_->units()) {
    if (!parent.empty() && u.parent_code() != parent) continue;
    if (r.level() != type::v1::UNIT_LEVEL_UNSPECIFIED && u.level() != r.level()) continue;
    if (!r.show_dissolved() && !InForce(u, as_of)) continue;
    if (!after.empty() && u.code() <= after) continue;
    matches.push_back(&u);
  }
  std::sort(matches.begin(), matches.end(),
            [](const auto* a, const auto* b) { return a->code() < b->code(); });
  const size_t size = r.page_size() == 0 ? kDefaultPageSize : r.page_size();
  units::v1::ListUnitsResponse out;
  for (size_t i = 0; i < matches.size() && i < size; ++i)
    *out.add_units() = ToProto(*matches[i], as_of);
  if (matches.size() > size) {
    out.set_next_page_token(absl::WebSafeBase64Escape(matches[size - 1]->code()));
  }
  return out;
}

grpc::ServerUnaryReactor* UnitGrpcService::GetUnit(grpc::CallbackServerContext* ctx,
                                                   const units::v1::GetUnitRequest* req,
                                                   units::v1::Unit* resp) {
  auto* reactor = ctx->DefaultReactor();
  auto p = auth_->Authenticate(*ctx);
  absl::StatusOr<units::v1::Unit> out = p.ok() ? directory_->Get(*req) : p.status();
  if (out.ok()) *resp = *std::move(out);
  reactor->Finish(ToGrpcStatus(out.status()));
  return reactor;
}

grpc::ServerUnaryReactor* UnitGrpcService::ListUnits(grpc::CallbackServerContext* ctx,
                                                     const units::v1::ListUnitsRequest* req,
                                                     units::v1::ListUnitsResponse* resp) {
  auto* reactor = ctx->DefaultReactor();
  auto p = auth_->Authenticate(*ctx);
  absl::StatusOr<units::v1::ListUnitsResponse> out = p.ok() ? directory_->List(*req) : p.status();
  if (out.ok()) *resp = *std::move(out);
  reactor->Finish(ToGrpcStatus(out.status()));
  return reactor;
}

}  // namespace reception
