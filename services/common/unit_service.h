// UnitService (reception.units.v1): the topology's administrative units as
// resources, for integrators' pickers and code look-ups.
#ifndef RECEPTION_SERVICES_COMMON_UNIT_SERVICE_H_
#define RECEPTION_SERVICES_COMMON_UNIT_SERVICE_H_

#include <set>
#include <string>

#include "absl/status/statusor.h"
#include "reception/units/v1/unit_service.grpc.pb.h"
#include "services/common/auth.h"
#include "services/common/clock.h"
#include "services/common/topology.h"

namespace reception {

// The rules, without transport (unit-tested directly).
class UnitDirectory {
 public:
  // `federated`: the units whose nodes this node federates with (itself
  // and its peers).
  UnitDirectory(const Topology* topology, const Clock* clock, std::set<std::string> federated)
      : topology_(topology), clock_(clock), federated_(std::move(federated)) {}

  absl::StatusOr<units::v1::Unit> Get(const units::v1::GetUnitRequest& r) const;
  absl::StatusOr<units::v1::ListUnitsResponse> List(const units::v1::ListUnitsRequest& r) const;

 private:
  units::v1::Unit ToProto(const Topology::Unit& u, absl::CivilDay as_of) const;

  const Topology* topology_;
  const Clock* clock_;
  std::set<std::string> federated_;
};

class UnitGrpcService final : public units::v1::UnitService::CallbackService {
 public:
  UnitGrpcService(const Authenticator* auth, const UnitDirectory* directory)
      : auth_(auth), directory_(directory) {}

  grpc::ServerUnaryReactor* GetUnit(grpc::CallbackServerContext* ctx,
                                    const units::v1::GetUnitRequest* req,
                                    units::v1::Unit* resp) override;
  grpc::ServerUnaryReactor* ListUnits(grpc::CallbackServerContext* ctx,
                                      const units::v1::ListUnitsRequest* req,
                                      units::v1::ListUnitsResponse* resp) override;

 private:
  const Authenticator* auth_;
  const UnitDirectory* directory_;
};

}  // namespace reception

#endif  // RECEPTION_SERVICES_COMMON_UNIT_SERVICE_H_
