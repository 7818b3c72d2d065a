// Reading cases: one case, filtered and ordered lists (by number or by due
// date, with a text query, bounded scans and page tokens), the audit trail
// and its verification, and the reception log (form 03). Who reads what: a
// caller of a unit below this node's (a bridge point without its own node)
// reads only the cases received at its unit or below.
#ifndef RECEPTION_SERVICES_CASE_CASE_QUERIES_H_
#define RECEPTION_SERVICES_CASE_CASE_QUERIES_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "reception/cases/v1/case_service.pb.h"
#include "services/case/case_clocks.h"
#include "services/case/case_duplicates.h"
#include "services/case/case_records.h"
#include "services/case/case_replicas.h"
#include "services/case/case_reports.h"

namespace reception {

class CaseQueries {
 public:
  CaseQueries(const CaseDeps& deps, const CaseRecords& records, const CaseClocks& clocks,
              const CaseDuplicates& duplicates, const CaseReplicas& replicas)
      : d_(deps),
        records_(records),
        clocks_(clocks),
        duplicates_(duplicates),
        replicas_(replicas) {}

  absl::StatusOr<cases::v1::Case> GetCase(const Principal& p,
                                          const cases::v1::GetCaseRequest& r) const;
  absl::StatusOr<cases::v1::ListCasesResponse> ListCases(
      const Principal& p, const cases::v1::ListCasesRequest& r) const;
  absl::StatusOr<cases::v1::GetCaseHistoryResponse> GetCaseHistory(
      const Principal& p, const cases::v1::GetCaseHistoryRequest& r) const;
  absl::StatusOr<cases::v1::VerifyCaseHistoryResponse> VerifyCaseHistory(
      const Principal& p, const cases::v1::VerifyCaseHistoryRequest& r) const;
  absl::StatusOr<cases::v1::ExportReceptionLogResponse> ExportReceptionLog(
      const Principal& p, const cases::v1::ExportReceptionLogRequest& r) const;

 private:
  struct ListFilters {
    const cases::v1::ListCasesRequest* request = nullptr;
    int page_size = 50;
    std::optional<absl::CivilDay> from, to;          // received
    std::optional<absl::CivilDay> due_from, due_to;  // running due date
    bool by_due = false;                             // walk the due index first
    bool due_only = false;                           // only cases with a running clock
    std::vector<std::string> tokens;
    // Read scope: only cases received at this unit or below (empty: all).
    std::string received_within;
    // Also the replicas followed from below (LIST_SCOPE_SUBTREE).
    bool subtree = false;
    // With report_figure: the report's period.
    const FigurePeriod* report = nullptr;
  };
  // One candidate of a listing: a record of this node's or a replica.
  struct Candidate {
    cases::v1::Case c;
    bool replica = false;
    std::string search_text;  // replicas carry theirs
  };
  // The unit a reader is limited to: a caller of a unit below this node's
  // reads only the cases received at its unit or below; this node's unit,
  // its ancestors (oversight) and nodes read all. Empty: no limit.
  std::string ReadScope(const Principal& p) const;
  absl::StatusOr<bool> MatchesFilters(const Candidate& c, const ListFilters& f) const;
  // Whether a candidate is the one record of its case a subtree listing
  // shows: this node's own record when it owns the case or is at least as
  // new, else the replica.
  absl::StatusOr<bool> Wins(const Candidate& c) const;
  // NOT_FOUND, or FAILED_PRECONDITION for a case held only as a replica.
  absl::Status NotHeldHere(const std::string& name, const std::string& number) const;

  const CaseDeps& d_;
  const CaseRecords& records_;
  const CaseClocks& clocks_;
  const CaseDuplicates& duplicates_;
  const CaseReplicas& replicas_;
};

}  // namespace reception

#endif  // RECEPTION_SERVICES_CASE_CASE_QUERIES_H_
