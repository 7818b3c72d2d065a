// After a restore from a backup: which of the cases the node held as owner
// it still owns. A handoff made after the backup left the case with another
// node at a higher owner epoch, but the restored node does not know it: it
// would let officers change a copy that is no longer the case, hand it over
// a second time, and refuse the case when it comes back.
//
// At the first start after a restore, every case held as owner is marked
// unconfirmed and writes to it wait (UNAVAILABLE OWNERSHIP_UNCONFIRMED).
// Every configured peer (handoffs only go to peers, and the topmost
// ancestor's node holds replicas of the whole subtree) is asked, 500 cases
// to a question, through the shared outbox of questions: a peer offline for
// days is asked when its link returns. A case some peer holds at a higher
// epoch becomes the read-only copy a delivered handoff leaves (owner and
// epoch as the peer knows them), so its return is accepted like any
// return; once every peer has answered a page, the rest of its cases are
// confirmed and writable again. New cases are never held back.
#ifndef RECEPTION_SERVICES_CASE_OWNERSHIP_CHECK_H_
#define RECEPTION_SERVICES_CASE_OWNERSHIP_CHECK_H_

#include <string>

#include "absl/status/statusor.h"
#include "reception/federation/v1/case_federation.pb.h"
#include "services/case/case_records.h"
#include "services/case/case_replicas.h"
#include "services/case/deadline_board.h"
#include "services/common/outbox.h"

namespace reception {

class OwnershipCheck {
 public:
  // Keys of this concept's questions in the shared question outbox.
  static constexpr char kKeyPrefix[] = "o/";
  // Claims per question.
  static constexpr int kPageSize = 500;

  OwnershipCheck(const CaseDeps& deps, const CaseRecords& records, const CaseReplicas& replicas,
                 DeadlineBoard& board)
      : d_(deps), records_(records), replicas_(replicas), board_(board) {}

  // Start-up after a restore from `backup`: marks every case held as owner
  // unconfirmed and queues its page's question for every configured peer,
  // one write per page. Returns the cases marked (0 without peers: there is
  // nobody a case could have gone to). Safe to repeat after a crash.
  absl::StatusOr<int> Begin(const std::string& backup, Outbox* outbox) const;

  // The answering side (CheckCaseOwners): for the node of a configured
  // peer; the request checked as strictly as intake. Committed state.
  absl::StatusOr<federation::v1::CheckCaseOwnersResponse> Answer(
      const Principal& p, const federation::v1::CheckCaseOwnersRequest& r) const;

  // Applies a peer's answer in the write that removes the question. A
  // refusal parks the question (its cases stay unconfirmed) until an
  // operator retries it, or cancels it, which counts as an answer with
  // nothing newer.
  absl::Status Settle(const Outbox::Item& item, const Outbox::Answer& answer, WriteTxn& txn) const;

 private:
  absl::Status Freeze(WriteTxn& txn, const std::string& number, const std::string& owner_unit,
                      int64_t owner_epoch, const std::string& peer) const;

  const CaseDeps& d_;
  const CaseRecords& records_;
  const CaseReplicas& replicas_;
  DeadlineBoard& board_;
};

}  // namespace reception

#endif  // RECEPTION_SERVICES_CASE_OWNERSHIP_CHECK_H_
