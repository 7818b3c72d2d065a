#include "services/case/first_complaint_links.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "services/case/intake.h"
#include "services/common/civil_date.h"
#include "services/common/logging.h"
#include "services/common/status.h"
#include "services/common/text.h"

namespace reception {

using cases::v1::Case;
using cases::v1::PreviousCaseCheck;
using federation::v1::CheckFirstComplaintRequest;
using federation::v1::CheckFirstComplaintResponse;

namespace {

constexpr size_t kMaxDetail = 500;

// The unit whose node issued case `number` ("{unit}-{year}-{sequence}").
absl::string_view IssuingUnit(absl::string_view number) {
  const size_t seq = number.rfind('-');
  if (seq == absl::string_view::npos || seq == 0) return "";
  const size_t year = number.rfind('-', seq - 1);
  return year == absl::string_view::npos ? "" : number.substr(0, year);
}

// The filing limit counts from `start` at the earliest: intake's own start
// may not be before it; without one, it becomes the start.
absl::Status ApplyFilingStart(Case& c, absl::CivilDay start, const std::string& counted_from,
                              bool at_intake) {
  auto* f = c.mutable_filing_limit();
  if (f->has_start_date() && !IsUnset(f->start_date())) {
    if (at_intake && DayOf(f->start_date()) < start) {
      return InvalidField("case.filing_limit.start_date",
                          absl::StrCat("must not be before ", FormatDate(start), ": the limit ",
                                       "counts from ", counted_from, " at the earliest"));
    }
    return absl::OkStatus();
  }
  *f->mutable_start_date() = ToProtoDate(start);
  f->set_counted_from(TruncateUtf8(counted_from, kMaxDetail));
  return absl::OkStatus();
}

void Mark(PreviousCaseCheck* check, PreviousCaseCheck::State state, absl::string_view unit,
          absl::Time now, const std::string& detail) {
  check->Clear();
  check->set_state(state);
  check->set_checked_unit(std::string(unit));
  SetTimestamp(now, check->mutable_check_time());
  check->set_detail(TruncateUtf8(detail, kMaxDetail));
}

void Verified(PreviousCaseCheck* check, const CheckFirstComplaintResponse& facts) {
  check->set_decision_reference(facts.decision_reference());
  if (facts.has_decision_date()) *check->mutable_decision_date() = facts.decision_date();
}

}  // namespace

FirstComplaintJudgement JudgeFirstComplaint(absl::string_view prev,
                                            const CheckFirstComplaintResponse& facts,
                                            absl::CivilDay received) {
  FirstComplaintJudgement j;
  if (!facts.found()) {
    j.why = absl::StrCat(prev, " is not held by unit ", facts.checked_unit());
    return j;
  }
  if (facts.kind() != cases::v1::CASE_KIND_COMPLAINT ||
      facts.complaint_round() != cases::v1::COMPLAINT_ROUND_FIRST) {
    j.why = absl::StrCat(prev, " is not a first-time complaint");
    return j;
  }
  if (facts.has_decision_date() && !IsUnset(facts.decision_date()) &&
      DayOf(facts.decision_date()) <= received) {
    j.admissible = true;
    j.filing_start = DayOf(facts.decision_date());
    j.why = absl::StrCat("the first decision ", facts.decision_reference(), " of ",
                         FormatDate(facts.decision_date()), " (", prev, ")");
    return j;
  }
  const bool period = facts.has_settlement_due_date() && !IsUnset(facts.settlement_due_date());
  if (period && DayOf(facts.settlement_due_date()) < received) {
    j.admissible = true;
    j.filing_start = DayOf(facts.settlement_due_date());
    j.why = absl::StrCat("the last day of the first settlement period, ",
                         FormatDate(facts.settlement_due_date()),
                         ", which passed with no decision (", prev, ")");
    return j;
  }
  j.why = absl::StrCat(
      prev, " has no first decision yet and ",
      period ? absl::StrCat("its settlement period runs until ",
                            FormatDate(facts.settlement_due_date()))
             : std::string("no settlement period of it has run out"),
      ": a second complaint lies against a first decision, or once the first settlement period "
      "has passed without one (Law on Complaints 2011 Art 7)");
  return j;
}

CheckFirstComplaintResponse FirstComplaintFacts(const Case& c) {
  CheckFirstComplaintResponse out;
  out.set_found(true);
  out.set_owner_unit(c.owner_unit());
  out.set_kind(c.kind());
  out.set_complaint_round(c.complaint_round());
  if (c.has_decision() && c.decision().has_date() && !IsUnset(c.decision().date())) {
    out.set_decision_reference(c.decision().decision_reference());
    *out.mutable_decision_date() = c.decision().date();
  }
  for (const auto& clock : c.clocks()) {
    if (clock.step() == cases::v1::DEADLINE_STEP_SETTLE && clock.has_due_date()) {
      *out.mutable_settlement_due_date() = clock.due_date();
    }
  }
  return out;
}

FirstComplaintLinks::FirstComplaintLinks(const CaseDeps& deps, const CaseRecords& records,
                                         const CaseReplicas& replicas, const CaseClocks& clocks)
    : d_(deps), records_(records), replicas_(replicas), clocks_(clocks) {}

absl::Status FirstComplaintLinks::Check(const WriteTxn& txn, Case& c, bool at_intake) const {
  c.clear_previous_case_check();
  if (c.kind() != cases::v1::CASE_KIND_COMPLAINT ||
      c.complaint_round() != cases::v1::COMPLAINT_ROUND_SECOND) {
    return absl::OkStatus();
  }
  const absl::CivilDay received = DayOf(c.received_date());
  if (c.has_first_decision()) {
    const auto& fd = c.first_decision();
    return ApplyFilingStart(
        c, DayOf(fd.date()),
        absl::StrCat("the first decision ", fd.document_number(), " of ", FormatDate(fd.date()),
                     " by ", fd.issued_by(), ", made outside the system"),
        at_intake);
  }
  if (c.previous_case().empty()) return absl::OkStatus();
  RECEPTION_ASSIGN_OR_RETURN(std::string number,
                             ParseCaseName(c.previous_case(), "case.previous_case"));
  bool from_replica = false;
  RECEPTION_ASSIGN_OR_RETURN(auto prev, replicas_.Newest(&txn, number, &from_replica));
  PreviousCaseCheck* check = c.mutable_previous_case_check();
  const absl::Time now = d_.clock->Now();
  const absl::string_view issuer = IssuingUnit(number);
  if (!prev) {
    // A number this node issued names a case this node holds: one it does
    // not hold was never issued (a case handed away leaves its copy here).
    if (issuer == d_.unit_code) {
      const std::string why = absl::StrCat("names no case of unit ", d_.unit_code, ": cases/",
                                           number, " was never registered here");
      if (at_intake) return InvalidField("case.previous_case", why);
      Mark(check, PreviousCaseCheck::STATE_CONTRADICTED, d_.unit_code, now, why);
      return absl::OkStatus();
    }
    if (!d_.ancestor_unit.empty()) {
      Mark(check, PreviousCaseCheck::STATE_UNVERIFIED, d_.ancestor_unit, now,
           absl::StrCat("not held here; asked of unit ", d_.ancestor_unit,
                        "'s node, which follows its subtree"));
      check->set_pending(true);
      return absl::OkStatus();
    }
    Mark(
        check, PreviousCaseCheck::STATE_UNVERIFIED, d_.unit_code, now,
        absl::StrCat(c.previous_case(), " is neither a case nor a replica held here, and there is ",
                     "no node above to ask"));
    return absl::OkStatus();
  }
  CheckFirstComplaintResponse facts = FirstComplaintFacts(*prev);
  facts.set_checked_unit(d_.unit_code);
  FirstComplaintJudgement j = JudgeFirstComplaint(c.previous_case(), facts, received);
  if (!j.admissible) {
    if (at_intake) return InvalidField("case.previous_case", j.why);
    Mark(check, PreviousCaseCheck::STATE_CONTRADICTED, d_.unit_code, now, j.why);
    return absl::OkStatus();
  }
  Mark(check, PreviousCaseCheck::STATE_VERIFIED, d_.unit_code, now,
       absl::StrCat("found here", from_replica ? " (an oversight replica)" : "",
                    "; may be complained of again from ", j.why));
  Verified(check, facts);
  return ApplyFilingStart(c, *j.filing_start, j.why, at_intake);
}

void FirstComplaintLinks::Queue(WriteTxn& txn, const Case& c, Outbox* outbox) const {
  if (!c.previous_case_check().pending() || outbox == nullptr) return;
  CheckFirstComplaintRequest r;
  r.set_case_(c.name());
  r.set_previous_case(c.previous_case());
  outbox->Put(txn, c.previous_case_check().checked_unit(), absl::StrCat(kKeyPrefix, c.number()),
              r.SerializeAsString());
  txn.OnDurable([outbox] { outbox->Kick(); });
}

absl::StatusOr<CheckFirstComplaintResponse> FirstComplaintLinks::Answer(
    const Principal& p, const CheckFirstComplaintRequest& r) const {
  if (p.role != Role::kNode || p.unit_code == d_.unit_code ||
      !d_.topology->IsWithin(p.unit_code, d_.unit_code)) {
    return absl::PermissionDeniedError(absl::StrCat(
        "unit ", d_.unit_code, " checks first-time complaints only for the nodes of units below ",
        "it; the caller is ", RoleName(p.role), " of unit ", p.unit_code.substr(0, 32)));
  }
  RECEPTION_RETURN_IF_ERROR(ParseCaseName(r.case_(), "case").status());
  RECEPTION_ASSIGN_OR_RETURN(std::string number, ParseCaseName(r.previous_case(), "previous_case"));
  RECEPTION_ASSIGN_OR_RETURN(auto c, replicas_.Newest(nullptr, number));
  CheckFirstComplaintResponse out;
  if (c) out = FirstComplaintFacts(*c);
  out.set_checked_unit(d_.unit_code);
  return out;
}

absl::Status FirstComplaintLinks::Settle(const Outbox::Item& item, const Outbox::Answer& answer,
                                         WriteTxn& txn) const {
  absl::string_view number = item.key;
  if (!absl::ConsumePrefix(&number, kKeyPrefix)) return absl::OkStatus();
  RECEPTION_ASSIGN_OR_RETURN(auto rec, records_.Load(&txn, std::string(number)));
  if (!rec) return absl::OkStatus();
  Case& c = *rec->mutable_case_();
  PreviousCaseCheck* check = c.mutable_previous_case_check();
  const absl::Time now = d_.clock->Now();
  const std::string& prev = c.previous_case();
  std::optional<FirstComplaintJudgement> verified;
  if (answer.verdict != Outbox::Verdict::kDelivered) {
    Mark(check, PreviousCaseCheck::STATE_UNVERIFIED, item.peer, now,
         absl::StrCat("unit ", item.peer, " would not answer: ", answer.detail));
  } else {
    // The answer is facts from another node: they must hang together
    // before they are judged here.
    CheckFirstComplaintResponse facts;
    std::string bad;
    if (!facts.ParseFromString(answer.response)) {
      bad = "the answer does not parse";
    } else if (facts.checked_unit() != item.peer) {
      bad = absl::StrCat("the answer names unit ", facts.checked_unit().substr(0, 32), ", not ",
                         item.peer);
    } else if (facts.found() && !d_.topology->IsWithin(facts.owner_unit(), item.peer)) {
      bad = absl::StrCat("the answer's owner unit is not of the subtree of ", item.peer);
    } else if (facts.found() && facts.has_decision_date() &&
               !ToCivilDay(facts.decision_date(), "decision_date").ok()) {
      bad = "the answer's decision date is not a date";
    } else if (facts.found() && facts.has_settlement_due_date() &&
               !ToCivilDay(facts.settlement_due_date(), "settlement_due_date").ok()) {
      bad = "the answer's settlement due date is not a date";
    }
    const absl::string_view issuer = IssuingUnit(absl::StripPrefix(prev, "cases/"));
    if (!bad.empty()) {
      Log()->warn("event=first_complaint_check_bad_answer case={} peer={} error={}",
                  std::string(number), item.peer, LogValue(bad));
      Mark(check, PreviousCaseCheck::STATE_UNVERIFIED, item.peer, now,
           absl::StrCat("the answer of unit ", item.peer, " was not usable: ", bad));
    } else if (!facts.found() && !d_.topology->IsWithin(issuer, item.peer)) {
      Mark(check, PreviousCaseCheck::STATE_UNVERIFIED, item.peer, now,
           absl::StrCat(prev, " was numbered by unit ", issuer, ", outside the subtree of unit ",
                        item.peer, ": nobody this node can ask holds it"));
    } else {
      FirstComplaintJudgement j = JudgeFirstComplaint(prev, facts, DayOf(c.received_date()));
      if (j.admissible) {
        Mark(
            check, PreviousCaseCheck::STATE_VERIFIED, item.peer, now,
            absl::StrCat("found by unit ", item.peer, "; may be complained of again from ", j.why));
        Verified(check, facts);
        verified = std::move(j);
      } else {
        Mark(check, PreviousCaseCheck::STATE_CONTRADICTED, item.peer, now, j.why);
      }
    }
  }
  // A filing limit left unjudged for want of the first decision is judged
  // now, in an audited change, on a case this node still owns.
  const bool judge_filing = verified && c.owner_unit() == d_.unit_code &&
                            !(c.has_filing_limit() && c.filing_limit().has_start_date() &&
                              !IsUnset(c.filing_limit().start_date()));
  if (judge_filing) {
    RECEPTION_RETURN_IF_ERROR(ApplyFilingStart(c, *verified->filing_start, verified->why, false));
    clocks_.JudgeFiling(c);
    const auto& f = c.filing_limit();
    const std::string judged =
        !f.has_due_date() ? absl::StrCat("not judged: ", f.problem())
        : f.met()
            ? absl::StrCat("met (last day ", FormatDate(f.due_date()), ")")
            : absl::StrCat(f.days_late(), " day(s) late (last day ", FormatDate(f.due_date()), ")");
    const Principal checker{"first-complaint-check", Role::kNode, d_.unit_code};
    return records_.AppendEvent(
        txn, *rec, checker, "CheckFirstComplaint",
        CaseChange{absl::StrCat("the first-time complaint ", prev, " was found by unit ", item.peer,
                                "; filing limit counted from ", verified->why, ": ", judged),
                   {"previous_case_check", "filing_limit"}});
  }
  // Otherwise output only and outside the audited content: the record is
  // rewritten without a new version (as a subtree duplicate check is).
  txn.Put(records_.families().cases, c.number(), rec->SerializeAsString());
  return absl::OkStatus();
}

}  // namespace reception
