#include "services/calendar/deadline_engine.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "services/common/civil_date.h"
#include "services/common/status.h"

namespace reception {
namespace {

using cases::v1::ClockState;
using cases::v1::DeadlineClock;
using cases::v1::DeadlineStep;
using config::v1::DeadlineRule;
using config::v1::RulePack;

absl::CivilDay Day(const type::v1::Date& d) { return absl::CivilDay(d.year(), d.month(), d.day()); }

DayBasis Basis(cases::v1::DayBasis b) {
  return b == cases::v1::DAY_BASIS_WORKING_DAYS ? DayBasis::kWorkingDays : DayBasis::kCalendarDays;
}

std::string BasisWords(cases::v1::DayBasis b) {
  return b == cases::v1::DAY_BASIS_WORKING_DAYS ? "working days" : "calendar days";
}

std::string Lower(absl::string_view full, absl::string_view prefix) {
  absl::string_view s = full;
  if (s.substr(0, prefix.size()) == prefix) s.remove_prefix(prefix.size());
  return absl::AsciiStrToLower(s);
}

std::string ComplexityName(cases::v1::Complexity c) {
  if (c == cases::v1::COMPLEXITY_UNSPECIFIED) c = cases::v1::COMPLEXITY_NORMAL;
  return Lower(cases::v1::Complexity_Name(c), "COMPLEXITY_");
}

bool IsComplex(cases::v1::Complexity c) {
  return c == cases::v1::COMPLEXITY_COMPLEX || c == cases::v1::COMPLEXITY_VERY_COMPLEX;
}

std::vector<Pause> Pauses(const DeadlineClock& clock) {
  std::vector<Pause> out;
  for (const auto& p : clock.pauses()) {
    if (!p.has_end_date()) continue;
    out.push_back({Day(p.start_date()), Day(p.end_date())});
  }
  return out;
}

int ExtensionDays(const DeadlineClock& clock) {
  int n = 0;
  for (const auto& e : clock.extensions()) n += e.days();
  return n;
}

}  // namespace

std::string StepName(DeadlineStep step) {
  return Lower(cases::v1::DeadlineStep_Name(step), "DEADLINE_STEP_");
}

std::vector<DeadlineStep> DeadlineEngine::StepsFor(ClockTrigger trigger) {
  switch (trigger) {
    case ClockTrigger::kReceived:
      return {cases::v1::DEADLINE_STEP_HANDLE_LETTER, cases::v1::DEADLINE_STEP_ACCEPT};
    case ClockTrigger::kOutsideCompetence:
      return {cases::v1::DEADLINE_STEP_TRANSFER};
    case ClockTrigger::kAccepted:
      return {cases::v1::DEADLINE_STEP_SETTLE};
    case ClockTrigger::kDecided:
      return {cases::v1::DEADLINE_STEP_PUBLISH};
    case ClockTrigger::kDisputeReceived:
      return {cases::v1::DEADLINE_STEP_RESOLVE_DISPUTE};
  }
  return {};
}

const DeadlineRule* DeadlineEngine::FindRule(const RulePack& pack, DeadlineStep step,
                                             const ClockFacts& facts) {
  return MostSpecificRule(pack.deadlines(), facts.kind, facts.round,
                          [step](const DeadlineRule& r) { return r.step() == step; });
}

int DeadlineEngine::Length(const DeadlineRule& rule, bool remote,
                           cases::v1::Complexity complexity) {
  const int complex_days = rule.complex_days() > 0 ? rule.complex_days() : rule.days();
  const int remote_days = rule.remote_days() > 0 ? rule.remote_days() : rule.days();
  if (remote && IsComplex(complexity)) {
    return rule.remote_complex_days() > 0 ? rule.remote_complex_days()
                                          : std::max(complex_days, remote_days);
  }
  if (remote) return remote_days;
  if (IsComplex(complexity)) return complex_days;
  return rule.days();
}

config::v1::ExtensionAllowance DeadlineEngine::Allowance(const DeadlineRule& rule,
                                                         cases::v1::Complexity complexity) {
  if (complexity == cases::v1::COMPLEXITY_UNSPECIFIED) complexity = cases::v1::COMPLEXITY_NORMAL;
  config::v1::ExtensionAllowance any;
  for (const auto& e : rule.extensions()) {
    if (e.complexity() == complexity) return e;
    if (e.complexity() == cases::v1::COMPLEXITY_UNSPECIFIED) any = e;
  }
  return any;  // max_count 0 when nothing fits
}

void DeadlineEngine::Apply(DeadlineClock& clock, const RulePack& pack, const DeadlineRule& rule,
                           const ClockFacts& facts) const {
  clock.set_rule_id(rule.id());
  clock.set_rule_pack(pack.id());
  clock.set_source(rule.source());
  clock.set_basis(rule.basis());
  clock.set_length_days(Length(rule, facts.remote_area, facts.complexity));
  clock.set_remote_area(facts.remote_area);
  clock.set_complexity(facts.complexity == cases::v1::COMPLEXITY_UNSPECIFIED
                           ? cases::v1::COMPLEXITY_NORMAL
                           : facts.complexity);
  const auto allowance = Allowance(rule, facts.complexity);
  clock.set_max_extensions(allowance.max_count());
  clock.set_max_extension_days(allowance.max_days());
  ComputeDue(clock);
}

void DeadlineEngine::ComputeDue(DeadlineClock& clock) const {
  if (clock.state() != cases::v1::CLOCK_STATE_RUNNING) {
    if (clock.state() == cases::v1::CLOCK_STATE_PAUSED) clock.clear_due_date();
    return;
  }
  auto due =
      calendar_->PeriodEnd(Day(clock.start_date()), clock.length_days() + ExtensionDays(clock),
                           Basis(clock.basis()), Pauses(clock));
  if (!due.ok()) {
    clock.clear_due_date();
    clock.set_problem(std::string(due.status().message()));
    return;
  }
  *clock.mutable_due_date() = ToProtoDate(*due);
  clock.clear_problem();
}

absl::StatusOr<std::vector<DeadlineClock>> DeadlineEngine::Start(ClockTrigger trigger,
                                                                 const ClockFacts& facts,
                                                                 absl::CivilDay event) const {
  auto pack = rules_->PackOn(event);
  if (!pack.ok()) return pack.status();
  std::vector<DeadlineClock> out;
  for (DeadlineStep step : StepsFor(trigger)) {
    const DeadlineRule* rule = FindRule(**pack, step, facts);
    if (rule == nullptr) continue;
    DeadlineClock clock;
    clock.set_step(step);
    *clock.mutable_start_date() = ToProtoDate(event);
    clock.set_state(cases::v1::CLOCK_STATE_RUNNING);
    Apply(clock, **pack, *rule, facts);
    out.push_back(std::move(clock));
  }
  return out;
}

void DeadlineEngine::Recompute(DeadlineClock& clock, const ClockFacts& facts) const {
  if (clock.state() != cases::v1::CLOCK_STATE_RUNNING &&
      clock.state() != cases::v1::CLOCK_STATE_PAUSED) {
    return;
  }
  const RulePack* pack = rules_->FindPack(clock.rule_pack());
  const DeadlineRule* rule = pack ? FindRule(*pack, clock.step(), facts) : nullptr;
  if (rule == nullptr) {
    clock.set_problem(absl::StrCat("rule ", clock.rule_id(), " of pack ", clock.rule_pack(),
                                   " is no longer loaded; the due date was not recomputed"));
    return;
  }
  Apply(clock, *pack, *rule, facts);
}

absl::Status DeadlineEngine::Extend(DeadlineClock& clock, const ClockFacts& facts,
                                    const std::string& decision_reference, absl::CivilDay date,
                                    int days) const {
  const std::string what = absl::StrCat("the ", StepName(clock.step()), " time limit (rule ",
                                        clock.rule_id(), ", ", clock.source(), ")");
  if (clock.state() != cases::v1::CLOCK_STATE_RUNNING &&
      clock.state() != cases::v1::CLOCK_STATE_PAUSED) {
    return absl::FailedPreconditionError(absl::StrCat(
        what, " has ended (", Lower(cases::v1::ClockState_Name(clock.state()), "CLOCK_STATE_"),
        " on ", FormatDate(clock.end_date()), "); it cannot be extended"));
  }
  const RulePack* pack = rules_->FindPack(clock.rule_pack());
  const DeadlineRule* rule = pack ? FindRule(*pack, clock.step(), facts) : nullptr;
  if (rule == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat("rule ", clock.rule_id(), " of pack ",
                                                      clock.rule_pack(), " is no longer loaded"));
  }
  const auto allowance = Allowance(*rule, facts.complexity);
  if (allowance.max_count() == 0) {
    return absl::FailedPreconditionError(absl::StrCat(what, " allows no extension for a ",
                                                      ComplexityName(facts.complexity), " case"));
  }
  if (clock.extensions_size() >= allowance.max_count()) {
    std::vector<std::string> granted;
    for (const auto& e : clock.extensions()) {
      granted.push_back(absl::StrCat(e.decision_reference(), " (", e.days(), " days)"));
    }
    return absl::FailedPreconditionError(
        absl::StrCat(what, " allows at most ", allowance.max_count(), " extension(s) for a ",
                     ComplexityName(facts.complexity),
                     " case; already granted: ", absl::StrJoin(granted, ", ")));
  }
  if (days < 1) return InvalidField("days", "must be at least 1");
  if (days > allowance.max_days()) {
    return InvalidField("days",
                        absl::StrCat("must be at most ", allowance.max_days(), " ",
                                     BasisWords(clock.basis()), " (rule ", rule->id(), ")"));
  }
  if (clock.state() == cases::v1::CLOCK_STATE_RUNNING && clock.has_due_date() &&
      date > Day(clock.due_date())) {
    return absl::FailedPreconditionError(
        absl::StrCat(what, " ran out on ", FormatDate(clock.due_date()),
                     "; an extension must be decided on or before that day"));
  }
  auto* e = clock.add_extensions();
  e->set_decision_reference(decision_reference);
  *e->mutable_date() = ToProtoDate(date);
  e->set_days(days);
  Apply(clock, *pack, *rule, facts);
  return absl::OkStatus();
}

void DeadlineEngine::Pause(DeadlineClock& clock, absl::CivilDay first_paused_day,
                           const ClockFacts& facts) const {
  if (clock.state() != cases::v1::CLOCK_STATE_RUNNING) return;
  *clock.add_pauses()->mutable_start_date() = ToProtoDate(first_paused_day);
  clock.set_state(cases::v1::CLOCK_STATE_PAUSED);
  Recompute(clock, facts);
}

void DeadlineEngine::Resume(DeadlineClock& clock, absl::CivilDay resumed_on,
                            const ClockFacts& facts) const {
  if (clock.state() != cases::v1::CLOCK_STATE_PAUSED || clock.pauses().empty()) return;
  auto* pause = clock.mutable_pauses(clock.pauses_size() - 1);
  if (resumed_on <= Day(pause->start_date())) {
    clock.mutable_pauses()->RemoveLast();  // resumed the day it stopped: nothing paused
  } else {
    *pause->mutable_end_date() = ToProtoDate(resumed_on - 1);
  }
  clock.set_state(cases::v1::CLOCK_STATE_RUNNING);
  Recompute(clock, facts);
}

void DeadlineEngine::End(DeadlineClock& clock, ClockEnd how, absl::CivilDay on) {
  if (how == ClockEnd::kNone) return;
  if (clock.state() != cases::v1::CLOCK_STATE_RUNNING &&
      clock.state() != cases::v1::CLOCK_STATE_PAUSED) {
    return;
  }
  if (clock.state() == cases::v1::CLOCK_STATE_PAUSED && !clock.pauses().empty()) {
    auto* pause = clock.mutable_pauses(clock.pauses_size() - 1);
    if (on <= Day(pause->start_date())) {
      clock.mutable_pauses()->RemoveLast();
    } else {
      *pause->mutable_end_date() = ToProtoDate(on - 1);
    }
  }
  if (how == ClockEnd::kCancelled) {
    clock.set_state(cases::v1::CLOCK_STATE_CANCELLED);
  } else {
    const bool late = clock.has_due_date() && on > Day(clock.due_date());
    clock.set_state(late ? cases::v1::CLOCK_STATE_MISSED : cases::v1::CLOCK_STATE_MET);
  }
  *clock.mutable_end_date() = ToProtoDate(on);
  clock.set_overdue(false);
}

ClockEnd DeadlineEngine::EndFor(DeadlineStep step, absl::string_view t) {
  auto any = [&](std::initializer_list<absl::string_view> names) {
    return std::find(names.begin(), names.end(), t) != names.end();
  };
  if (t == "WithdrawCase") return ClockEnd::kCancelled;
  switch (step) {
    case cases::v1::DEADLINE_STEP_HANDLE_LETTER:
      if (any({"AcceptCase", "RefuseCase", "GuideCase", "ArchiveCase", "TransferCase"})) {
        return ClockEnd::kDone;
      }
      break;
    case cases::v1::DEADLINE_STEP_ACCEPT:
      if (any({"AcceptCase", "RefuseCase"})) return ClockEnd::kDone;
      if (any({"GuideCase", "ArchiveCase", "TransferCase"})) return ClockEnd::kCancelled;
      break;
    case cases::v1::DEADLINE_STEP_TRANSFER:
      if (any({"GuideCase", "TransferCase"})) return ClockEnd::kDone;
      if (any({"AcceptCase", "RefuseCase", "ArchiveCase"})) return ClockEnd::kCancelled;
      break;
    case cases::v1::DEADLINE_STEP_SETTLE:
      if (t == "DecideCase") return ClockEnd::kDone;
      break;
    case cases::v1::DEADLINE_STEP_PUBLISH:
      if (t == "PublishDecision") return ClockEnd::kDone;
      break;
    case cases::v1::DEADLINE_STEP_RESOLVE_DISPUTE:
      if (t == "ResolveJurisdiction") return ClockEnd::kDone;
      break;
    default:
      break;
  }
  return ClockEnd::kNone;
}

void DeadlineEngine::JudgeFiling(cases::v1::FilingLimit& limit, const ClockFacts& facts,
                                 absl::CivilDay received) const {
  // Only the input survives; the judgement is made afresh.
  cases::v1::FilingLimit judged;
  *judged.mutable_start_date() = limit.start_date();
  *judged.mutable_delays() = limit.delays();
  judged.set_counted_from(limit.counted_from());
  const bool has_start = limit.has_start_date() && limit.start_date().year() != 0;
  limit = std::move(judged);
  if (!has_start) {
    if (limit.delays().empty()) limit.Clear();
    return;
  }
  auto pack = rules_->PackOn(received);
  if (!pack.ok()) {
    limit.set_problem(std::string(pack.status().message()));
    return;
  }
  const DeadlineRule* rule = FindRule(**pack, cases::v1::DEADLINE_STEP_FILE, facts);
  if (rule == nullptr) {
    limit.set_problem(
        absl::StrCat("rule pack ", (*pack)->id(), " sets no filing limit for this matter"));
    return;
  }
  limit.set_rule_id(rule->id());
  limit.set_rule_pack((*pack)->id());
  limit.set_source(rule->source());
  limit.set_basis(rule->basis());
  limit.set_length_days(Length(*rule, facts.remote_area, cases::v1::COMPLEXITY_NORMAL));
  std::vector<reception::Pause> obstacles;
  for (const auto& d : limit.delays())
    obstacles.push_back({Day(d.start_date()), Day(d.end_date())});
  auto due = calendar_->PeriodEnd(Day(limit.start_date()), limit.length_days(),
                                  Basis(rule->basis()), obstacles);
  if (!due.ok()) {
    limit.set_problem(std::string(due.status().message()));
    return;
  }
  *limit.mutable_due_date() = ToProtoDate(*due);
  limit.set_met(received <= *due);
  limit.set_days_late(received <= *due ? 0 : static_cast<int>(received - *due));
}

bool DeadlineEngine::MarkProvisional(absl::CivilDay first, absl::CivilDay last,
                                     cases::v1::ProvisionalCalendar* out) const {
  out->Clear();
  const std::vector<int> years = calendar_->ProvisionalYears(first, last);
  if (years.empty()) return false;
  for (int y : years) out->add_years(y);
  out->set_reason(calendar_->ProvisionalReason(years));
  return true;
}

void DeadlineEngine::MarkProvisional(DeadlineClock& clock) const {
  if (clock.state() != cases::v1::CLOCK_STATE_RUNNING || !clock.has_due_date()) {
    clock.clear_provisional();
    return;
  }
  if (!MarkProvisional(Day(clock.start_date()) + 1, Day(clock.due_date()),
                       clock.mutable_provisional())) {
    clock.clear_provisional();
  }
}

std::optional<absl::CivilDay> DeadlineEngine::EarliestDue(
    const google::protobuf::RepeatedPtrField<DeadlineClock>& clocks) {
  std::optional<absl::CivilDay> out;
  for (const auto& c : clocks) {
    if (c.state() != cases::v1::CLOCK_STATE_RUNNING || !c.has_due_date()) continue;
    const absl::CivilDay d = Day(c.due_date());
    if (!out || d < *out) out = d;
  }
  return out;
}

absl::StatusOr<cases::v1::PreviewDeadlinesResponse> DeadlineEngine::Preview(
    const ClockFacts& facts, absl::CivilDay received,
    std::optional<absl::CivilDay> accepted) const {
  cases::v1::PreviewDeadlinesResponse out;
  out.set_calendar(calendar_->name());
  std::optional<absl::CivilDay> accept_due;
  struct Plan {
    DeadlineStep step;
    absl::CivilDay start;
    bool assumed;
    std::string event;
    std::string condition;
  };
  std::vector<Plan> plans = {
      {cases::v1::DEADLINE_STEP_HANDLE_LETTER, received, false, "receipt", ""},
      {cases::v1::DEADLINE_STEP_ACCEPT, received, false, "receipt", ""},
      {cases::v1::DEADLINE_STEP_TRANSFER, received, false, "receipt",
       "only when the matter is outside the unit's competence"},
  };
  for (int pass = 0; pass < 2; ++pass) {
    if (pass == 1) {
      // Settlement counts from acceptance: the given date, else the last day
      // the acceptance step allows (else receipt).
      const absl::CivilDay start = accepted ? *accepted : accept_due.value_or(received);
      plans = {{cases::v1::DEADLINE_STEP_SETTLE, start, !accepted.has_value(), "acceptance",
                "once the matter is accepted"}};
    }
    for (const Plan& plan : plans) {
      auto pack = rules_->PackOn(plan.start);
      if (!pack.ok()) return pack.status();
      const DeadlineRule* rule = FindRule(**pack, plan.step, facts);
      if (rule == nullptr) continue;
      cases::v1::DeadlinePreview p;
      p.set_step(plan.step);
      p.set_rule_id(rule->id());
      p.set_rule_pack((*pack)->id());
      p.set_source(rule->source());
      p.set_basis(rule->basis());
      p.set_length_days(Length(*rule, facts.remote_area, facts.complexity));
      p.set_remote_area(facts.remote_area);
      *p.mutable_start_date() = ToProtoDate(plan.start);
      p.set_start_date_assumed(plan.assumed);
      p.set_condition(plan.condition);
      const auto allowance = Allowance(*rule, facts.complexity);
      p.set_max_extensions(allowance.max_count());
      p.set_max_extension_days(allowance.max_days());
      auto due = calendar_->PeriodEnd(plan.start, p.length_days(), Basis(rule->basis()));
      if (!due.ok()) {
        // This step cannot be counted; the others still can.
        p.set_problem(std::string(due.status().message()));
        p.set_explanation(absl::StrCat(
            rule->source(), ": ", p.length_days(), " ", BasisWords(rule->basis()),
            " from the day after ", plan.event, " on ", FormatDate(plan.start), "; ", p.problem()));
        *out.add_deadlines() = std::move(p);
        continue;
      }
      *p.mutable_due_date() = ToProtoDate(*due);
      absl::CivilDay latest = *due;
      if (allowance.max_count() > 0) {
        auto l = calendar_->PeriodEnd(
            plan.start, p.length_days() + allowance.max_count() * allowance.max_days(),
            Basis(rule->basis()));
        if (l.ok()) {
          latest = *l;
          *p.mutable_latest_due_date() = ToProtoDate(latest);
        } else {
          p.set_problem(
              absl::StrCat("the latest due date with every extension: ", l.status().message()));
        }
      } else {
        *p.mutable_latest_due_date() = ToProtoDate(latest);
      }
      MarkProvisional(plan.start + 1, latest, p.mutable_provisional());
      if (p.provisional().years().empty()) p.clear_provisional();
      // Name the variant only when the rule has one that changed the length.
      std::string variant;
      if (facts.remote_area &&
          Length(*rule, true, facts.complexity) != Length(*rule, false, facts.complexity)) {
        variant = "remote area";
      }
      if (IsComplex(facts.complexity) &&
          Length(*rule, facts.remote_area, facts.complexity) !=
              Length(*rule, facts.remote_area, cases::v1::COMPLEXITY_NORMAL)) {
        absl::StrAppend(&variant, variant.empty() ? "" : ", ", ComplexityName(facts.complexity));
      }
      std::string explanation =
          absl::StrCat(rule->source(), ": ", p.length_days(), " ", BasisWords(rule->basis()),
                       variant.empty() ? "" : absl::StrCat(" (", variant, ")"),
                       " from the day after ", plan.event, " on ", FormatDate(plan.start),
                       plan.assumed ? " (assumed)" : "", "; last day ", FormatDate(*due));
      if (rule->basis() == cases::v1::DAY_BASIS_CALENDAR_DAYS &&
          *due != plan.start + p.length_days()) {
        absl::StrAppend(&explanation, " (day ", p.length_days(), " falls on a day off, ",
                        FormatDate(plan.start + p.length_days()),
                        ", so the period ends on the next working day)");
      }
      if (allowance.max_count() > 0 && p.has_latest_due_date()) {
        absl::StrAppend(&explanation, "; up to ", allowance.max_count(), " extension(s) of ",
                        allowance.max_days(), " days, at the latest ", FormatDate(latest));
      }
      if (p.has_provisional()) {
        absl::StrAppend(&explanation, " (provisional: ", p.provisional().reason(), ")");
      }
      p.set_explanation(std::move(explanation));
      if (plan.step == cases::v1::DEADLINE_STEP_ACCEPT) accept_due = *due;
      *out.add_deadlines() = std::move(p);
    }
  }
  return out;
}

}  // namespace reception
