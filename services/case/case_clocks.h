// The statutory clocks of the cases a node holds: the facts a clock is
// counted from, what each lifecycle transition starts, ends, pauses and
// recounts, the filing limit of a complaint, the flags computed when a case
// is served, the preview for a case not yet registered, and the recount at
// start-up when the loaded calendar has changed. The counting itself is the
// DeadlineEngine's (services/calendar); this class applies it to cases.
#ifndef RECEPTION_SERVICES_CASE_CASE_CLOCKS_H_
#define RECEPTION_SERVICES_CASE_CASE_CLOCKS_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "reception/cases/v1/case_service.pb.h"
#include "services/case/case_records.h"
#include "services/case/deadline_board.h"
#include "services/case/lifecycle.h"

namespace reception {

class CaseClocks {
 public:
  CaseClocks(const CaseDeps& deps, const CaseRecords& records, DeadlineBoard& board)
      : d_(deps), records_(records), board_(board) {}

  ClockFacts Facts(const cases::v1::Case& c) const;
  // Ends, starts, pauses and recounts the case's clocks for transition `t`
  // (already applied to `c`), and sets its due date.
  absl::Status Advance(cases::v1::Case& c, CaseTransition t, absl::CivilDay today) const;
  // Starts the clocks `trigger` starts on `day` and sets the due date.
  absl::Status Start(cases::v1::Case& c, ClockTrigger trigger, absl::CivilDay day) const;
  // Judges the complaint's filing limit again (intake and import).
  void JudgeFiling(cases::v1::Case& c) const;
  // ClassifyCase's filing-limit facts (start, delays) added to `c` and the
  // limit judged again; what changed, for the audit summary ("" if nothing).
  absl::StatusOr<std::string> AddFilingFacts(const cases::v1::ClassifyCaseRequest& r,
                                             cases::v1::Case& c) const;
  // Fills the fields computed when served (overdue flags, provisional years).
  void Decorate(cases::v1::Case& c, absl::CivilDay today) const;

  absl::StatusOr<cases::v1::PreviewDeadlinesResponse> Preview(
      const cases::v1::PreviewDeadlinesRequest& r) const;

  // Start-up, before serving: see CaseRegistry::RecomputeClocksForCalendar.
  absl::StatusOr<int> RecountForCalendar();

 private:
  const CaseDeps& d_;
  const CaseRecords& records_;
  DeadlineBoard& board_;
};

// The earliest due date of the case's running clocks, or none.
void SetDueDate(cases::v1::Case& c);

}  // namespace reception

#endif  // RECEPTION_SERVICES_CASE_CASE_CLOCKS_H_
