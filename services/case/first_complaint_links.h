// A second-time complaint names the first decision it contests (Law on
// Complaints 2011 Art 7; Decree 124/2020 Art 4: its filing limit counts
// from that decision, or from the last day of the first settlement period
// when no decision came).
//
// The link is a first-time complaint case (Case.previous_case) or a paper
// decision made outside the system (Case.first_decision). A case this node
// holds, as its own record or as an oversight replica, is judged at intake
// and a wrong link refused there. Another node's case is asked of the node
// of the topmost ancestor among the peers (which follows its subtree),
// durably through the shared check outbox, and marked UNVERIFIED until the
// answer comes; the answer is facts, judged here. Either way the filing
// limit counts from the first decision when intake did not say when the
// complainant received it.
#ifndef RECEPTION_SERVICES_CASE_FIRST_COMPLAINT_LINKS_H_
#define RECEPTION_SERVICES_CASE_FIRST_COMPLAINT_LINKS_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "reception/federation/v1/case_federation.pb.h"
#include "services/case/case_clocks.h"
#include "services/case/case_records.h"
#include "services/case/case_replicas.h"
#include "services/common/outbox.h"

namespace reception {

// What a first-time complaint says about complaining of it again, judged on
// the second complaint's reception date.
struct FirstComplaintJudgement {
  bool admissible = false;
  std::string why;  // for people: why not, or what the filing limit counts from
  // Admissible: the day the second complaint's filing limit counts from at
  // the earliest (the decision's date, or the first settlement period's
  // last day).
  std::optional<absl::CivilDay> filing_start;
};

// The rule itself, on the facts (a local record, a replica or a peer's
// answer): `prev` names the first-time complaint for people.
FirstComplaintJudgement JudgeFirstComplaint(
    absl::string_view prev, const federation::v1::CheckFirstComplaintResponse& facts,
    absl::CivilDay received);

// The facts a node knows of case `c`.
federation::v1::CheckFirstComplaintResponse FirstComplaintFacts(const cases::v1::Case& c);

class FirstComplaintLinks {
 public:
  // Keys of this concept's questions in the shared check outbox.
  static constexpr char kKeyPrefix[] = "p/";

  FirstComplaintLinks(const CaseDeps& deps, const CaseRecords& records,
                      const CaseReplicas& replicas, const CaseClocks& clocks);

  // Intake (or an import), in the registering write, before numbering:
  // judges a link this node can judge (at intake refusing a wrong one with
  // INVALID_ARGUMENT on case.previous_case; on import recording it as
  // CONTRADICTED), marks the rest for asking, and defaults the filing
  // limit's start to the first decision.
  absl::Status Check(const WriteTxn& txn, cases::v1::Case& c, bool at_intake) const;
  // Intake, once numbered: queues the question Check marked pending.
  void Queue(WriteTxn& txn, const cases::v1::Case& c, Outbox* outbox) const;

  // The ancestor's side (CheckFirstComplaint): for the node of a unit below
  // this one. Committed state.
  absl::StatusOr<federation::v1::CheckFirstComplaintResponse> Answer(
      const Principal& p, const federation::v1::CheckFirstComplaintRequest& r) const;

  // Records the answer (or the refusal to answer) on the asking case, in
  // the write that removes the question. A verified link of a case still
  // owned here whose filing limit waited for it is judged now, with an
  // audit event.
  absl::Status Settle(const Outbox::Item& item, const Outbox::Answer& answer, WriteTxn& txn) const;

 private:
  const CaseDeps& d_;
  const CaseRecords& records_;
  const CaseReplicas& replicas_;
  const CaseClocks& clocks_;
};

}  // namespace reception

#endif  // RECEPTION_SERVICES_CASE_FIRST_COMPLAINT_LINKS_H_
