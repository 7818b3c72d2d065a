// Jurisdiction as data: which unit is competent for a case, and what the
// receiving node should do (handle, transfer, guide), with the rule that
// decided and a sentence a person can read. Pure: no gRPC, no storage.
#ifndef RECEPTION_SERVICES_ROUTING_ROUTING_ENGINE_H_
#define RECEPTION_SERVICES_ROUTING_ROUTING_ENGINE_H_

#include <set>
#include <string>

#include "absl/status/statusor.h"
#include "reception/cases/v1/case.pb.h"
#include "reception/routing/v1/routing_service.pb.h"
#include "services/common/rule_book.h"
#include "services/common/topology.h"

namespace reception {

class RoutingEngine {
 public:
  RoutingEngine(const Topology* topology, const RuleBook* rules, std::string unit_code,
                std::set<std::string> peer_units)
      : topology_(topology),
        rules_(rules),
        unit_code_(std::move(unit_code)),
        peers_(std::move(peer_units)) {}

  // The rule for the case's kind and complaint round (specific beats
  // generic); nullptr when none.
  static const config::v1::JurisdictionRule* FindRule(const config::v1::RulePack& pack,
                                                      const cases::v1::Case& c);

  // The decision for a case held by this node. The pack in force on the
  // case's received date applies; units are taken as they were that day.
  // `repeats_guided`: the matter the case repeats was already guided as
  // often as the rule pack allows (Case.matter_guidance_exhausted, the case
  // service's rule along the whole chain of repeats), so it is archived,
  // not guided again.
  absl::StatusOr<routing::v1::RoutingDecision> Decide(const cases::v1::Case& c,
                                                      bool repeats_guided = false) const;

 private:
  const Topology* topology_;
  const RuleBook* rules_;
  std::string unit_code_;
  std::set<std::string> peers_;
};

}  // namespace reception

#endif  // RECEPTION_SERVICES_ROUTING_ROUTING_ENGINE_H_
