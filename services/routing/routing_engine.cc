#include "services/routing/routing_engine.h"

#include "absl/strings/str_cat.h"
#include "services/common/civil_date.h"

namespace reception {

const config::v1::JurisdictionRule* RoutingEngine::FindRule(const config::v1::RulePack& pack,
                                                            const cases::v1::Case& c) {
  return MostSpecificRule(pack.jurisdiction(), c.kind(), c.complaint_round(),
                          [](const config::v1::JurisdictionRule&) { return true; });
}

absl::StatusOr<routing::v1::RoutingDecision> RoutingEngine::Decide(const cases::v1::Case& c,
                                                                   bool repeats_guided) const {
  const absl::CivilDay received(c.received_date().year(), c.received_date().month(),
                                c.received_date().day());
  auto pack = rules_->PackOn(received);
  if (!pack.ok()) return pack.status();
  routing::v1::RoutingDecision d;
  d.set_case_(c.name());
  d.set_rule_pack((*pack)->id());
  auto name_of = [&](const std::string& code) {
    auto u = topology_->FindOn(code, received, "unit");
    return u.ok() ? (*u)->name() : code;
  };
  const config::v1::JurisdictionRule* rule = FindRule(**pack, c);
  std::string competent = c.respondent().unit_code();
  std::string why;
  if (rule == nullptr) {
    competent = unit_code_;
    why =
        absl::StrCat("no jurisdiction rule in pack ", (*pack)->id(), " covers this kind of matter");
  } else if (competent.empty()) {
    d.set_rule_id(rule->id());
    competent = unit_code_;
    why = "the case names no respondent unit, so it stays where it was received";
  } else {
    d.set_rule_id(rule->id());
    auto respondent = topology_->FindOn(competent, received, "respondent.unit_code");
    if (!respondent.ok()) return respondent.status();
    const bool head = c.respondent().head_of_unit();
    const auto body = head && rule->competent_for_head() != config::v1::COMPETENT_BODY_UNSPECIFIED
                          ? rule->competent_for_head()
                          : rule->competent();
    if (body == config::v1::COMPETENT_BODY_RESPONDENT_PARENT &&
        !(*respondent)->parent_code().empty()) {
      competent = (*respondent)->parent_code();
      why = absl::StrCat(rule->source(), ": the level above ", (*respondent)->name(),
                         head ? " (the respondent heads it)" : "", " is competent");
    } else {
      why = absl::StrCat(rule->source(), ": ", (*respondent)->name(), " is competent");
    }
  }
  d.set_competent_unit(competent);
  d.set_competent_unit_name(name_of(competent));
  if (c.mass_case()) {
    auto self = topology_->FindOn(unit_code_, received, "unit");
    if (self.ok() && !(*self)->parent_code().empty()) d.set_notify_unit((*self)->parent_code());
  }
  if (competent == unit_code_) {
    d.set_action(routing::v1::ROUTING_ACTION_HANDLE_HERE);
    d.set_explanation(absl::StrCat(why, "; this unit handles it"));
  } else {
    d.set_over_level(topology_->IsWithin(competent, unit_code_));
    if (peers_.count(competent)) {
      d.set_action(routing::v1::ROUTING_ACTION_TRANSFER);
      d.set_explanation(
          absl::StrCat(why, "; transfer to ", d.competent_unit_name(), " (", competent, ")",
                       d.over_level() ? ", the competent lower level (sent over level)" : ""));
    } else {
      if (repeats_guided) {
        d.set_action(routing::v1::ROUTING_ACTION_ARCHIVE);
        d.set_archive_reason(cases::v1::ARCHIVE_REASON_ALREADY_GUIDED);
        d.set_explanation(absl::StrCat(why, "; the matter it repeats (", c.repeats_case(),
                                       ") was already guided as often as the "
                                       "rule pack allows: archive it"));
      } else {
        d.set_action(routing::v1::ROUTING_ACTION_GUIDE);
        d.set_explanation(absl::StrCat(why,
                                       "; it has no node in this federation: guide the citizen to ",
                                       d.competent_unit_name(), " once, in writing"));
      }
    }
  }
  if (!d.notify_unit().empty()) {
    d.set_explanation(
        absl::StrCat(d.explanation(), "; a mass case: inform unit ", d.notify_unit()));
  }
  return d;
}

}  // namespace reception
