// Province-wide duplicate detection: a new case is checked against the cases
// of the whole subtree of the node's topmost ancestor (a citizen complaining
// of the same matter at two communes). The ancestor's node holds replicas of
// every case below it (case_replicas.h) indexed by the petitioners' citizen
// IDs hashed under the province's matching key, so neither the question nor
// the answer carries an ID.
//
// The asking side is durable: intake queues the check in the same write
// that registers the case (the shared outbox), so a commune offline for days
// asks when its link returns, and the answer is recorded on the case
// (Case.subtree_check) once it comes. A node with no ancestor to ask (the
// province itself) checks its own subtree at intake. Protected identities
// are never checked.
#ifndef RECEPTION_SERVICES_CASE_SUBTREE_CHECKS_H_
#define RECEPTION_SERVICES_CASE_SUBTREE_CHECKS_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "reception/federation/v1/case_federation.pb.h"
#include "services/case/case_duplicates.h"
#include "services/case/case_records.h"
#include "services/case/case_replicas.h"
#include "services/common/outbox.h"

namespace reception {

class SubtreeChecks {
 public:
  SubtreeChecks(const CaseDeps& deps, const CaseRecords& records, const CaseDuplicates& duplicates,
                const CaseReplicas& replicas);

  // Opening the outbox failed.
  const absl::Status& status() const { return status_; }
  // The queue of questions for the ancestor's node: this concept's checks
  // (keys "c/") and those of others routed here (null if it did not open).
  Outbox* outbox() const { return outbox_.get(); }
  // Answers to queued questions whose keys start with `prefix` are settled
  // by `settle` (set before the outbox starts).
  void Route(std::string prefix, Outbox::Settle settle) {
    routes_.emplace_back(std::move(prefix), std::move(settle));
  }

  // Whether a new case with `profile` is checked at all (a matching key, a
  // petitioner with a citizen ID, not a protected identity).
  bool Wanted(const CaseDuplicates::Profile& profile, bool protect) const;
  // Intake (or an import), off the writer, on a node that asks nobody: the
  // check against this node's own subtree index, recorded on `c` as done
  // (`c` itself, once numbered, left out).
  absl::Status CheckHere(cases::v1::Case& c, const CaseDuplicates::Profile& profile) const;
  // Intake, in the write that registers numbered case `c`: queues the check
  // for the ancestor's node and marks it pending on `c`. False when this
  // node checks here instead (no ancestor to ask).
  bool Queue(WriteTxn& txn, cases::v1::Case& c, const CaseDuplicates::Profile& profile) const;

  // The ancestor's side (FindRelatedCases): for the node of a unit below
  // this one; the request checked as strictly as intake. Committed state.
  absl::StatusOr<federation::v1::FindRelatedCasesResponse> Answer(
      const Principal& p, const federation::v1::FindRelatedCasesRequest& r) const;

  // An id of the matching key (8 bytes, hex) that says whether two nodes
  // share it without revealing it; "" without a key.
  static std::string KeyId(absl::string_view matching_key);

 private:
  absl::Status OpenOutbox();
  // Records the ancestor's answer (or its refusal) on the case, in the
  // write that removes the queued check.
  absl::Status Settle(const Outbox::Item& item, const Outbox::Answer& answer, WriteTxn& txn) const;

  const CaseDeps& d_;
  const CaseRecords& records_;
  const CaseDuplicates& duplicates_;
  const CaseReplicas& replicas_;
  std::unique_ptr<Outbox> outbox_;
  std::vector<std::pair<std::string, Outbox::Settle>> routes_;
  absl::Status status_;
};

}  // namespace reception

#endif  // RECEPTION_SERVICES_CASE_SUBTREE_CHECKS_H_
