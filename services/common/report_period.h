// Reporting periods (Circular 01/2024/TT-TTCP, DOMAIN.md section 6): a
// month, or a quarter, half-year, nine months or year whose figures run
// from the rule pack's quarter start day of the month before (15: Q1 is
// 15 December of the year before to 14 March). The cut day is data of the
// pack in force on the period's nominal first day; a pack without it cuts
// on calendar boundaries.
#ifndef RECEPTION_SERVICES_COMMON_REPORT_PERIOD_H_
#define RECEPTION_SERVICES_COMMON_REPORT_PERIOD_H_

#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "services/common/rule_book.h"

namespace reception {

enum class PeriodKind { kMonth, kQuarter, kHalfYear, kNineMonths, kYear };

struct ReportSpan {
  absl::CivilDay first;
  absl::CivilDay last;
  // The rule the cut came from ("" for a month or a calendar cut).
  std::string source;
};

// `number`: the month (1-12), quarter (1-4) or half (1-2); ignored for nine
// months and a year. INVALID_ARGUMENT naming "year" or "number".
absl::StatusOr<ReportSpan> ReportPeriodSpan(PeriodKind kind, int year, int number,
                                            const RuleBook& rules);

}  // namespace reception

#endif  // RECEPTION_SERVICES_COMMON_REPORT_PERIOD_H_
