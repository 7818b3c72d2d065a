// The lifecycle of a case after intake: each transition is one write on the
// store's writer (load the owned record, check the etag, the state machine
// and an open dispute, apply the change, advance the clocks, append the
// audit event), answered once durable. The legal checks each transition
// makes (competence, filing limit, guidance limit, refusal grounds, partial
// withdrawal) are here; the state machine is lifecycle.h's.
#ifndef RECEPTION_SERVICES_CASE_CASE_TRANSITIONS_H_
#define RECEPTION_SERVICES_CASE_CASE_TRANSITIONS_H_

#include <string>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "reception/cases/v1/case_service.pb.h"
#include "reception/federation/v1/case_federation.pb.h"
#include "services/case/case_clocks.h"
#include "services/case/case_duplicates.h"
#include "services/case/case_handoffs.h"
#include "services/case/case_records.h"
#include "services/case/deadline_board.h"

namespace prometheus {
class Counter;
template <typename T>
class Family;
}  // namespace prometheus

namespace reception {

class CaseTransitions {
 public:
  template <typename T>
  using Callback = absl::AnyInvocable<void(absl::StatusOr<T>)>;
  using CaseCallback = Callback<cases::v1::Case>;

  CaseTransitions(const CaseDeps& deps, const CaseRecords& records, const CaseClocks& clocks,
                  const CaseDuplicates& duplicates, const CaseHandoffs& handoffs,
                  DeadlineBoard& board);

  void ClassifyCase(const Principal& p, const cases::v1::ClassifyCaseRequest& r, CaseCallback done);
  void AcceptCase(const Principal& p, const cases::v1::AcceptCaseRequest& r, CaseCallback done);
  void RefuseCase(const Principal& p, const cases::v1::RefuseCaseRequest& r, CaseCallback done);
  void GuideCase(const Principal& p, const cases::v1::GuideCaseRequest& r, CaseCallback done);
  void ArchiveCase(const Principal& p, const cases::v1::ArchiveCaseRequest& r, CaseCallback done);
  void StartCaseVerification(const Principal& p, const cases::v1::StartCaseVerificationRequest& r,
                             CaseCallback done);
  void SuspendCase(const Principal& p, const cases::v1::SuspendCaseRequest& r, CaseCallback done);
  void ResumeCase(const Principal& p, const cases::v1::ResumeCaseRequest& r, CaseCallback done);
  void DecideCase(const Principal& p, const cases::v1::DecideCaseRequest& r, CaseCallback done);
  void CloseCase(const Principal& p, const cases::v1::CloseCaseRequest& r, CaseCallback done);
  void PublishDecision(const Principal& p, const cases::v1::PublishDecisionRequest& r,
                       CaseCallback done);
  void WithdrawCase(const Principal& p, const cases::v1::WithdrawCaseRequest& r, CaseCallback done);
  void DeclareCaseComplexity(const Principal& p, const cases::v1::DeclareCaseComplexityRequest& r,
                             CaseCallback done);
  void ExtendCaseDeadline(const Principal& p, const cases::v1::ExtendCaseDeadlineRequest& r,
                          CaseCallback done);
  void AttachCaseMinutes(const Principal& p, const federation::v1::AttachCaseMinutesRequest& r,
                         CaseCallback done);
  // Corrections (case_corrections.h): the overlaid case validated by
  // intake's rules, a protected identity opened and sealed again, the
  // search and duplicate indexes rewritten, one audit event; nothing
  // changed: the case as it is, no event.
  void UpdateCase(const Principal& p, const cases::v1::UpdateCaseRequest& r, CaseCallback done);
  void RevealDenouncerIdentity(const Principal& p,
                               const cases::v1::RevealDenouncerIdentityRequest& r,
                               Callback<cases::v1::RevealDenouncerIdentityResponse> done);

 private:
  // Why an anonymous letter may go on (AcceptCase) and how, or
  // FAILED_PRECONDITION naming what the law's test lacks (rule pack in
  // force on its receipt).
  struct AnonymousGoesOn {
    std::string basis;  // for people and the audit trail
    bool information_for_inspection = false;
  };
  absl::StatusOr<AnonymousGoesOn> AnonymousBasis(const cases::v1::Case& c) const;
  using Apply = absl::AnyInvocable<absl::StatusOr<CaseChange>(
      const WriteTxn& txn, cases::v1::Case& c, absl::CivilDay today)>;
  // `check_writer` false: the caller has checked who may make this change.
  void Transition(const Principal& p, const std::string& name, const std::string& etag,
                  CaseTransition t, Apply apply, CaseCallback done, bool check_writer = true);

  const CaseDeps& d_;
  const CaseRecords& records_;
  const CaseClocks& clocks_;
  const CaseDuplicates& duplicates_;
  const CaseHandoffs& handoffs_;
  DeadlineBoard& board_;
  prometheus::Family<prometheus::Counter>* transitions_ = nullptr;
  prometheus::Counter* reveals_ = nullptr;
};

}  // namespace reception

#endif  // RECEPTION_SERVICES_CASE_CASE_TRANSITIONS_H_
