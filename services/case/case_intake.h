// Registering a case (CreateCase). The request is validated and prepared on
// the caller's thread (intake.h's rules, the search text, the duplicate
// search: the costly steps), then one write on the store's writer: replay a
// retried request, check a second-time complaint's first decision, number
// the case, start its clocks, seal a denouncer's identity, index it, append
// its first audit event and record the request for idempotency.
#ifndef RECEPTION_SERVICES_CASE_CASE_INTAKE_H_
#define RECEPTION_SERVICES_CASE_CASE_INTAKE_H_

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "reception/cases/v1/case_service.pb.h"
#include "services/case/case_clocks.h"
#include "services/case/case_duplicates.h"
#include "services/case/case_records.h"
#include "services/case/deadline_board.h"
#include "services/case/first_complaint_links.h"
#include "services/case/subtree_checks.h"

namespace prometheus {
class Counter;
template <typename T>
class Family;
}  // namespace prometheus

namespace reception {

class CaseIntake {
 public:
  using CaseCallback = absl::AnyInvocable<void(absl::StatusOr<cases::v1::Case>)>;

  CaseIntake(const CaseDeps& deps, const CaseRecords& records, const CaseClocks& clocks,
             const CaseDuplicates& duplicates, const SubtreeChecks& checks,
             const FirstComplaintLinks& links, DeadlineBoard& board);

  void CreateCase(const Principal& p, const cases::v1::CreateCaseRequest& r, CaseCallback done);

 private:
  // A case prepared off the writer thread.
  struct Prepared {
    cases::v1::Case c;
    std::string fingerprint;  // of the request's content, for idempotency
    std::string request_id;
    bool protect = false;  // a named denouncer: the identity is sealed
    CaseDuplicates::Profile profile;
    bool check_subtree = false;  // asked of the ancestor once numbered
  };
  absl::StatusOr<Prepared> Prepare(const Principal& p, const cases::v1::CreateCaseRequest& r) const;
  // The writer's steps, in order.
  absl::StatusOr<std::optional<cases::v1::Case>> Replay(const WriteTxn& txn,
                                                        const Prepared& in) const;
  absl::Status Number(WriteTxn& txn, cases::v1::Case& c) const;
  absl::Status Protect(cases::v1::Case& c, cases::storage::CaseRecord& rec) const;
  static CaseChange Received(const cases::v1::Case& c);
  absl::Status Register(WriteTxn& txn, const Principal& p, Prepared in, cases::v1::Case& out) const;

  const CaseDeps& d_;
  const CaseRecords& records_;
  const CaseClocks& clocks_;
  const CaseDuplicates& duplicates_;
  const SubtreeChecks& checks_;
  const FirstComplaintLinks& links_;
  DeadlineBoard& board_;
  // reception_cases_created_total, one series per kind made once (a label
  // lookup per call showed in profiles).
  std::map<int, prometheus::Counter*> created_;
};

}  // namespace reception

#endif  // RECEPTION_SERVICES_CASE_CASE_INTAKE_H_
