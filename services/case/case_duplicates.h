// What a case may repeat, and the indexes that find it: the folded search
// text (ListCases.query), the keyed-hash index of petitioners' citizen IDs,
// the earlier cases a new one may repeat (same citizen, similar content,
// within a window), and how often the matter of a chain of repeats was
// already guided. Protected identities are never indexed.
#ifndef RECEPTION_SERVICES_CASE_CASE_DUPLICATES_H_
#define RECEPTION_SERVICES_CASE_CASE_DUPLICATES_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "reception/cases/v1/case.pb.h"
#include "services/case/case_records.h"

namespace reception {

class CaseDuplicates {
 public:
  CaseDuplicates(const CaseDeps& deps, const CaseRecords& records) : d_(deps), records_(records) {}

  // The folded text a case is found by (names of unprotected petitioners,
  // the respondent, the content). Costly: call it off the writer thread.
  std::string SearchText(const cases::v1::Case& c) const;
  // Writes the indexes of a case new on this node (registered or imported):
  // its search text and, unless its identity is protected, its citizens.
  void Index(WriteTxn& txn, const cases::v1::Case& c, const std::string& search_text) const;
  // Earlier committed cases that `c` may repeat.
  absl::StatusOr<std::vector<std::string>> Find(const cases::v1::Case& c) const;
  // How many cases along `c`'s chain of repeats (as this node holds them)
  // were guided.
  absl::StatusOr<int> GuidancesOnMatter(const WriteTxn& txn, const cases::v1::Case& c) const;

 private:
  // Keys of the "citizens" family for a case's unprotected petitioners.
  std::vector<std::string> CitizenKeys(const cases::v1::Case& c) const;

  const CaseDeps& d_;
  const CaseRecords& records_;
};

}  // namespace reception

#endif  // RECEPTION_SERVICES_CASE_CASE_DUPLICATES_H_
