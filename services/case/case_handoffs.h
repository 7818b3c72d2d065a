// Handing cases between nodes: a transfer or return freezes the case and
// queues its handoff in the shared outbox in one write ("h/{handoff id}");
// the outbox offers it to the destination (deliver_handoff: the
// HandoffWorker, whose peer imports it once durable) and records the answer
// in the write that takes it off the queue. Jurisdiction disputes travel the
// same way: opened by the owner (or by a second return of the same matter)
// and decided by the two units' lowest common ancestor. ImportHandoff
// (handoff_import.cc) is the receiving side: a peer's offer is input,
// checked as strictly as intake.
#ifndef RECEPTION_SERVICES_CASE_CASE_HANDOFFS_H_
#define RECEPTION_SERVICES_CASE_CASE_HANDOFFS_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "reception/cases/v1/case_service.pb.h"
#include "reception/cases/v1/handoff_service.pb.h"
#include "reception/federation/v1/case_federation.pb.h"
#include "services/case/case_clocks.h"
#include "services/case/case_duplicates.h"
#include "services/case/case_records.h"
#include "services/case/deadline_board.h"
#include "services/case/first_complaint_links.h"
#include "services/case/subtree_checks.h"
#include "services/common/outbox.h"

namespace reception {

class CaseHandoffs {
 public:
  template <typename T>
  using Callback = absl::AnyInvocable<void(absl::StatusOr<T>)>;

  CaseHandoffs(const CaseDeps& deps, const CaseRecords& records, const CaseClocks& clocks,
               const CaseDuplicates& duplicates, const SubtreeChecks& checks,
               const FirstComplaintLinks& links, DeadlineBoard& board);

  // Not ok: the handoff outbox did not open.
  const absl::Status& status() const { return status_; }
  Outbox* outbox() const { return outbox_.get(); }

  void TransferCase(const Principal& p, const cases::v1::TransferCaseRequest& r,
                    Callback<cases::v1::Handoff> done);
  void ReturnCase(const Principal& p, const cases::v1::ReturnCaseRequest& r,
                  Callback<cases::v1::Handoff> done);
  void DisputeJurisdiction(const Principal& p, const cases::v1::DisputeJurisdictionRequest& r,
                           Callback<cases::v1::JurisdictionResponse> done);
  void ResolveJurisdiction(const Principal& p, const cases::v1::ResolveJurisdictionRequest& r,
                           Callback<cases::v1::JurisdictionResponse> done);
  void ImportHandoff(const Principal& p, const federation::v1::OfferHandoffRequest& r,
                     Callback<federation::v1::OfferHandoffResponse> done);

  absl::StatusOr<federation::v1::OfferHandoffRequest> BuildOffer(
      const std::string& handoff_id, absl::string_view peer_public_key) const;
  absl::StatusOr<cases::v1::Handoff> GetHandoff(const cases::v1::GetHandoffRequest& r) const;
  absl::StatusOr<cases::v1::ListHandoffsResponse> ListHandoffs(
      const cases::v1::ListHandoffsRequest& r) const;

  // FAILED_PRECONDITION while the case waits here for this unit's decision
  // on a jurisdiction dispute.
  absl::Status CheckNoDisputeHere(const cases::v1::Case& c) const;

 private:
  // Where a queued transfer goes and how the audit trail names it; a hook
  // may change all three, or empty `destination` to keep the case here.
  struct TransferPlan {
    std::string destination;
    std::string action;
    std::string summary;  // before the transfer's own words
  };
  using TransferHook =
      std::function<absl::Status(cases::v1::Case&, absl::CivilDay today, TransferPlan&)>;
  void QueueTransfer(const Principal& p, const std::string& name, const std::string& etag,
                     const std::string& destination, const std::string& reason,
                     const std::string& request_id, bool is_return,
                     Callback<cases::v1::Handoff> done, TransferHook hook = nullptr,
                     std::shared_ptr<cases::v1::Case> case_out = nullptr);
  // Opens a dispute decided by the common ancestor of the two units: `plan`
  // sends the case there (or keeps it here, with the dispute clock running).
  absl::Status OpenDispute(cases::v1::Case& c, const std::string& claimant,
                           const std::string& disputed, const std::string& reason, bool automatic,
                           absl::CivilDay today, TransferPlan& plan) const;
  // Records a return; a second one to the same unit opens a dispute.
  absl::Status RecordReturn(cases::v1::Case& c, absl::CivilDay today, const std::string& reason,
                            TransferPlan& plan) const;
  // The offer's checks that need no store (who offers, what, sealed how),
  // as strict as intake; the case number. A protected identity it carries
  // comes back in `sealed`, sealed again for this node's vault.
  absl::StatusOr<std::string> CheckOffer(const Principal& p,
                                         const federation::v1::OfferHandoffRequest& r,
                                         std::optional<common::Sealed>& sealed) const;
  // The answer to an offered handoff, in the outbox's settling write:
  // delivered (the copy here records the new owner, the identity leaves
  // with the case) or refused (an attempt with its error).
  absl::Status Settle(const Outbox::Item& item, const Outbox::Answer& answer, WriteTxn& txn);
  // Pending outgoing handoffs get the outbox's live attempts and error.
  void Decorate(const std::vector<cases::v1::Handoff*>& handoffs) const;
  // Opens the handoff outbox and moves queue entries of the format before
  // it over.
  absl::Status OpenOutbox();

  const CaseDeps& d_;
  const CaseRecords& records_;
  const CaseClocks& clocks_;
  const CaseDuplicates& duplicates_;
  const SubtreeChecks& checks_;
  const FirstComplaintLinks& links_;
  DeadlineBoard& board_;
  std::unique_ptr<Outbox> outbox_;
  absl::Status status_;
};

}  // namespace reception

#endif  // RECEPTION_SERVICES_CASE_CASE_HANDOFFS_H_
