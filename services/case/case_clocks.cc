#include "services/case/case_clocks.h"

#include <algorithm>
#include <memory>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "services/case/intake.h"
#include "services/common/civil_date.h"
#include "services/common/status.h"
#include "services/common/text.h"

namespace reception {
namespace {

using cases::storage::CaseRecord;
using cases::v1::Case;

// The date a transition took effect, as recorded by it.
absl::CivilDay TransitionDate(const Case& c, CaseTransition t, absl::CivilDay today) {
  const type::v1::Date* d = nullptr;
  switch (t) {
    case CaseTransition::kClassify:
      d = &c.classification().date();
      break;
    case CaseTransition::kAccept:
      d = &c.acceptance().date();
      break;
    case CaseTransition::kRefuse:
      d = &c.refusal().date();
      break;
    case CaseTransition::kGuide:
      d = &c.guidance().date();
      break;
    case CaseTransition::kArchive:
      d = &c.archival().date();
      break;
    case CaseTransition::kStartVerification:
      d = &c.verification().start_date();
      break;
    case CaseTransition::kSuspend:
      if (!c.suspensions().empty()) d = &c.suspensions().rbegin()->start_date();
      break;
    case CaseTransition::kResume:
      if (!c.suspensions().empty()) d = &c.suspensions().rbegin()->end_date();
      break;
    case CaseTransition::kDecide:
      d = &c.decision().date();
      break;
    case CaseTransition::kPublishDecision:
      d = &c.publication().date();
      break;
    case CaseTransition::kWithdraw:
    case CaseTransition::kWithdrawPartial:
      if (!c.withdrawals().empty()) d = &c.withdrawals().rbegin()->date();
      break;
    default:
      break;
  }
  return d != nullptr && d->year() != 0 ? DayOf(*d) : today;
}

// "2027-02-19", or "no due date" (the calendar did not cover the period).
std::string DueWords(const cases::v1::DeadlineClock& clock) {
  return clock.has_due_date() ? FormatDate(clock.due_date()) : "no due date";
}

// What recounting on the loaded calendar changes in a case's running clocks:
// one "settle: 2027-02-19 -> 2027-02-22" per step whose date moved.
std::vector<std::string> RecountClocks(const DeadlineEngine& engine, const ClockFacts& facts,
                                       Case& c) {
  std::vector<std::string> moved;
  for (auto& clock : *c.mutable_clocks()) {
    if (clock.state() != cases::v1::CLOCK_STATE_RUNNING) continue;
    const std::string before = DueWords(clock);
    engine.Recompute(clock, facts);
    if (const std::string after = DueWords(clock); after != before) {
      moved.push_back(absl::StrCat(StepName(clock.step()), ": ", before, " -> ", after));
    }
  }
  return moved;
}

}  // namespace

ClockFacts CaseClocks::Facts(const Case& c) const {
  ClockFacts f;
  f.kind = c.kind();
  f.round = c.complaint_round();
  const auto* owner = d_.topology->Find(c.owner_unit().empty() ? d_.unit_code : c.owner_unit());
  f.remote_area = owner != nullptr && owner->remote_area();
  f.complexity = c.classification().complexity() == cases::v1::COMPLEXITY_UNSPECIFIED
                     ? cases::v1::COMPLEXITY_NORMAL
                     : c.classification().complexity();
  return f;
}

absl::Status CaseClocks::Advance(Case& c, CaseTransition t, absl::CivilDay today) const {
  if (d_.deadlines == nullptr) return absl::OkStatus();
  const DeadlineEngine& engine = *d_.deadlines;
  const absl::CivilDay day = TransitionDate(c, t, today);
  const ClockFacts facts = Facts(c);
  const absl::string_view name = TransitionName(t);
  for (auto& clock : *c.mutable_clocks()) {
    DeadlineEngine::End(clock, DeadlineEngine::EndFor(clock.step(), name), day);
  }
  std::vector<cases::v1::DeadlineClock> started;
  if (t == CaseTransition::kClassify && !c.classification().within_competence()) {
    RECEPTION_ASSIGN_OR_RETURN(
        started, engine.Start(ClockTrigger::kOutsideCompetence, facts, DayOf(c.received_date())));
  } else if (t == CaseTransition::kAccept && !c.acceptance().information_for_inspection()) {
    // (An anonymous letter checked as information for inspection runs no
    // denunciation time limit.)
    RECEPTION_ASSIGN_OR_RETURN(started, engine.Start(ClockTrigger::kAccepted, facts, day));
  } else if (t == CaseTransition::kDecide) {
    // Publication of the decision (complaints; the pack has no rule for other kinds).
    RECEPTION_ASSIGN_OR_RETURN(started, engine.Start(ClockTrigger::kDecided, facts, day));
  } else if (t == CaseTransition::kTransfer &&
             std::none_of(c.clocks().begin(), c.clocks().end(),
                          [](const cases::v1::DeadlineClock& k) {
                            return k.step() == cases::v1::DEADLINE_STEP_TRANSFER;
                          })) {
    // Transferred without a classification outside competence: the time
    // limit for transferring (denunciations) still applies, and is judged now.
    RECEPTION_ASSIGN_OR_RETURN(
        started, engine.Start(ClockTrigger::kOutsideCompetence, facts, DayOf(c.received_date())));
    for (auto& k : started) DeadlineEngine::End(k, ClockEnd::kDone, day);
  } else if (t == CaseTransition::kSuspend) {
    for (auto& clock : *c.mutable_clocks()) engine.Pause(clock, day, facts);
  } else if (t == CaseTransition::kResume) {
    // `day` is the last paused day (ResumeCaseRequest.date, Suspension.end_date):
    // counting starts again the day after.
    for (auto& clock : *c.mutable_clocks()) engine.Resume(clock, day + 1, facts);
  }
  for (auto& clock : started) *c.add_clocks() = std::move(clock);
  // Complexity (classification) and the owner's remote flag may have changed.
  for (auto& clock : *c.mutable_clocks()) engine.Recompute(clock, facts);
  SetDueDate(c);
  return absl::OkStatus();
}

absl::Status CaseClocks::Start(Case& c, ClockTrigger trigger, absl::CivilDay day) const {
  if (d_.deadlines == nullptr) return absl::OkStatus();
  RECEPTION_ASSIGN_OR_RETURN(auto clocks, d_.deadlines->Start(trigger, Facts(c), day));
  for (auto& clock : clocks) *c.add_clocks() = std::move(clock);
  SetDueDate(c);
  return absl::OkStatus();
}

void CaseClocks::JudgeFiling(Case& c) const {
  if (d_.deadlines == nullptr || !c.has_filing_limit()) return;
  d_.deadlines->JudgeFiling(*c.mutable_filing_limit(), Facts(c), DayOf(c.received_date()));
}

void SetDueDate(Case& c) {
  if (auto due = DeadlineEngine::EarliestDue(c.clocks())) {
    *c.mutable_due_date() = ToProtoDate(*due);
  } else {
    c.clear_due_date();
  }
}

absl::StatusOr<int> CaseClocks::RecountForCalendar() {
  if (d_.deadlines == nullptr) return 0;
  // Committed state: which owned cases would change.
  std::vector<std::string> numbers;
  {
    auto it = d_.store->NewIterator(records_.families().cases);
    CaseRecord rec;
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      if (!rec.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) continue;
      Case& c = *rec.mutable_case_();
      if (c.owner_unit() != d_.unit_code) continue;
      if (!RecountClocks(*d_.deadlines, Facts(c), c).empty()) numbers.push_back(c.number());
    }
    if (!it->status().ok()) return absl::InternalError("reading cases failed");
  }
  // One write per case, counted again under the writer. The completions
  // share this state with the wait below (they may still hold it when the
  // wait ends).
  const Principal calendar{"working-calendar", Role::kNode, d_.unit_code};
  struct Progress {
    absl::Mutex mu;
    int pending = 0;
    int changed = 0;
    absl::Status first_error;
  };
  auto progress = std::make_shared<Progress>();
  progress->pending = static_cast<int>(numbers.size());
  for (const std::string& number : numbers) {
    auto result = std::make_shared<Case>();
    d_.store->Submit(
        [this, number, result, calendar](WriteTxn& txn) -> absl::Status {
          RECEPTION_ASSIGN_OR_RETURN(CaseRecord rec, records_.LoadOwned(txn, number));
          Case& c = *rec.mutable_case_();
          const std::vector<std::string> moved = RecountClocks(*d_.deadlines, Facts(c), c);
          if (moved.empty()) return absl::OkStatus();
          SetDueDate(c);
          RECEPTION_RETURN_IF_ERROR(records_.AppendEvent(
              txn, rec, calendar, "RecomputeDeadlines",
              CaseChange{
                  absl::StrCat("due dates counted again at start-up on the working calendar \"",
                               d_.deadlines->calendar().name(),
                               "\" and the rules now loaded: ", absl::StrJoin(moved, "; ")),
                  {"clocks", "due_date"}}));
          *result = c;
          return absl::OkStatus();
        },
        [this, progress, result](absl::Status s) {
          if (s.ok() && !result->number().empty()) board_.Update(*result);
          absl::MutexLock lock(&progress->mu);
          if (!s.ok() && progress->first_error.ok()) progress->first_error = s;
          if (s.ok() && !result->number().empty()) ++progress->changed;
          --progress->pending;
        });
  }
  absl::MutexLock lock(&progress->mu);
  progress->mu.Await(absl::Condition(
      +[](int* p) { return *p == 0; }, &progress->pending));
  if (!progress->first_error.ok()) return progress->first_error;
  return progress->changed;
}

void CaseClocks::Decorate(Case& c, absl::CivilDay today) const {
  for (auto& clock : *c.mutable_clocks()) {
    clock.set_overdue(clock.state() == cases::v1::CLOCK_STATE_RUNNING && clock.has_due_date() &&
                      DayOf(clock.due_date()) < today);
    // Whether the due date rests on a year not yet published depends on the
    // calendar loaded now, not on the one the date was counted with.
    if (d_.deadlines != nullptr) d_.deadlines->MarkProvisional(clock);
  }
  c.set_overdue(c.has_due_date() && DayOf(c.due_date()) < today);
}

absl::StatusOr<std::string> CaseClocks::AddFilingFacts(const cases::v1::ClassifyCaseRequest& r,
                                                       Case& c) const {
  if (r.filing_delays().empty() && IsUnset(r.filing_start_date())) return std::string();
  if (c.kind() != cases::v1::CASE_KIND_COMPLAINT) {
    return InvalidField(r.filing_delays().empty() ? "filing_start_date" : "filing_delays",
                        "applies to complaints only (Law on Complaints Art 9)");
  }
  const absl::CivilDay received = DayOf(c.received_date());
  auto* f = c.mutable_filing_limit();
  std::vector<std::string> said;
  if (!IsUnset(r.filing_start_date())) {
    RECEPTION_ASSIGN_OR_RETURN(absl::CivilDay start,
                               ToCivilDay(r.filing_start_date(), "filing_start_date"));
    if (f->has_start_date() && !IsUnset(f->start_date()) && DayOf(f->start_date()) != start) {
      // A start intake counted from the first decision is the earliest
      // day: the day the complainant received it may come later.
      if (f->counted_from().empty()) {
        return InvalidField("filing_start_date",
                            absl::StrCat("was recorded at intake as ", FormatDate(f->start_date()),
                                         " and cannot be changed"));
      }
      if (start < DayOf(f->start_date())) {
        return InvalidField(
            "filing_start_date",
            absl::StrCat("must not be before ", FormatDate(f->start_date()),
                         ": the limit counts from ", f->counted_from(), " at the earliest"));
      }
      f->clear_counted_from();
    }
    if (start > received)
      return InvalidField("filing_start_date", "must not be after the reception date");
    *f->mutable_start_date() = ToProtoDate(start);
    said.push_back(absl::StrCat("filing limit counted from ", FormatDate(start)));
  }
  google::protobuf::RepeatedPtrField<cases::v1::FilingDelay> all = f->delays();
  for (const auto& d : r.filing_delays()) *all.Add() = d;
  std::optional<absl::CivilDay> start;
  if (f->has_start_date() && !IsUnset(f->start_date())) start = DayOf(f->start_date());
  RECEPTION_RETURN_IF_ERROR(ValidateFilingDelays(all, "filing_delays", start, received));
  for (const auto& d : r.filing_delays()) {
    auto* added = f->add_delays();
    *added = d;
    added->set_evidence_reference(NormalizeNfc(d.evidence_reference()));
    added->set_note(NormalizeNfc(d.note()));
    said.push_back(absl::StrCat(
        "delay ",
        absl::AsciiStrToLower(
            EnumSuffix(cases::v1::FilingObstacle_Name(d.obstacle()), "FILING_OBSTACLE_")),
        " ", FormatDate(d.start_date()), " to ", FormatDate(d.end_date()), " (evidence ",
        added->evidence_reference(), ")"));
  }
  if (d_.deadlines != nullptr) d_.deadlines->JudgeFiling(*f, Facts(c), received);
  if (f->has_due_date()) {
    said.push_back(f->met()
                       ? absl::StrCat("filed in time (last day ", FormatDate(f->due_date()), ")")
                       : absl::StrCat("filed ", f->days_late(), " day(s) late (last day ",
                                      FormatDate(f->due_date()), ")"));
  }
  return absl::StrJoin(said, "; ");
}

absl::StatusOr<cases::v1::PreviewDeadlinesResponse> CaseClocks::Preview(
    const cases::v1::PreviewDeadlinesRequest& r) const {
  if (d_.deadlines == nullptr)
    return absl::FailedPreconditionError("no working calendar is loaded");
  if (!cases::v1::CaseKind_IsValid(r.kind()) || r.kind() == cases::v1::CASE_KIND_UNSPECIFIED) {
    return InvalidField("kind", "must be set");
  }
  if (!cases::v1::ComplaintRound_IsValid(r.complaint_round())) {
    return InvalidField("complaint_round", "is not a complaint round");
  }
  if (!cases::v1::Complexity_IsValid(r.complexity())) {
    return InvalidField("complexity", "is not a complexity");
  }
  if (!r.has_received_date()) return InvalidField("received_date", "must be set");
  RECEPTION_ASSIGN_OR_RETURN(absl::CivilDay received,
                             ToCivilDay(r.received_date(), "received_date"));
  std::optional<absl::CivilDay> accepted;
  if (r.has_accepted_date()) {
    RECEPTION_ASSIGN_OR_RETURN(accepted, ToCivilDay(r.accepted_date(), "accepted_date"));
    if (*accepted < received)
      return InvalidField("accepted_date", "must not be before received_date");
  }
  RECEPTION_RETURN_IF_ERROR(ValidateText(r.unit_code(), "unit_code", 32, false, false));
  const std::string unit_code = r.unit_code().empty() ? d_.unit_code : r.unit_code();
  auto unit = d_.topology->FindOn(unit_code, received, "unit_code");
  if (!unit.ok()) return unit.status();
  ClockFacts facts;
  facts.kind = r.kind();
  facts.round = r.complaint_round();
  facts.remote_area = (*unit)->remote_area();
  facts.complexity = r.complexity() == cases::v1::COMPLEXITY_UNSPECIFIED
                         ? cases::v1::COMPLEXITY_NORMAL
                         : r.complexity();
  return d_.deadlines->Preview(facts, received, accepted);
}

}  // namespace reception
