// Reports (Circular 01/2024): what each figure counts, as one predicate
// that both GetCaseReport and ListCases(report_figure) use, so every count
// opens onto exactly its cases; and the report of a unit and its subtree
// over a period from this node's own cases and the replicas it follows
// (each case once: the record with the highest owner epoch, then version).
//
// A figure belongs to a unit: figures of reception (received, by kind and
// channel, mass, online, transferred out) to the unit that received the
// case; figures of handling (within competence, accepted, settled, pending,
// withdrawn, guided, transferred in) to the unit that owns it now.
#ifndef RECEPTION_SERVICES_CASE_CASE_REPORTS_H_
#define RECEPTION_SERVICES_CASE_CASE_REPORTS_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "reception/cases/v1/case_service.pb.h"
#include "services/case/case_records.h"

namespace reception {

struct FigurePeriod {
  absl::CivilDay from, to;
  absl::CivilDay as_of;  // pending is judged on this day: min(to, today)
};

// Whether figure `f` belongs to the unit that received a case (else to the
// unit that owns it).
bool IsReceptionFigure(cases::v1::ReportFigure f);

// The unit figure `f` of case `c` belongs to (reception or owner unit).
// `CaseT`: cases::v1::Case, or the stored record's report view
// (cases::storage::view::CaseReportView, the same field names).
template <typename CaseT>
const std::string& FigureUnit(const CaseT& c, cases::v1::ReportFigure f);

// Whether `c` counts in figure `f` over `p`, before any unit is considered.
// TRANSFERRED_OUT/IN also need the row's unit: `row_unit` and whether the
// row holds the units below it (`subtree`).
template <typename CaseT>
bool CountsIn(const CaseT& c, cases::v1::ReportFigure f, const FigurePeriod& p,
              const Topology& topology, const std::string& row_unit, bool subtree);

class CaseReports {
 public:
  CaseReports(const CaseDeps& deps, const CaseRecords& records) : d_(deps), records_(records) {}

  // The report; `p` must read the unit (checked by the caller's rules too).
  absl::StatusOr<cases::v1::CaseReport> GetCaseReport(
      const Principal& p, const cases::v1::GetCaseReportRequest& r) const;

 private:
  const CaseDeps& d_;
  const CaseRecords& records_;
};

}  // namespace reception

#endif  // RECEPTION_SERVICES_CASE_CASE_REPORTS_H_
