#include "services/common/report_period.h"

#include "services/common/status.h"

namespace reception {

absl::StatusOr<ReportSpan> ReportPeriodSpan(PeriodKind kind, int year, int number,
                                            const RuleBook& rules) {
  if (year < 2000 || year > 2100) return InvalidField("year", "must be 2000-2100");
  if (kind == PeriodKind::kMonth) {
    if (number < 1 || number > 12) return InvalidField("number", "must be a month, 1-12");
    const absl::CivilMonth m(year, number);
    return ReportSpan{absl::CivilDay(m), absl::CivilDay(m + 1) - 1, ""};
  }
  // Quarters counted from the start of the year: first and last quarter.
  int first_q = 1, last_q = 4;
  switch (kind) {
    case PeriodKind::kQuarter:
      if (number < 1 || number > 4) return InvalidField("number", "must be a quarter, 1-4");
      first_q = last_q = number;
      break;
    case PeriodKind::kHalfYear:
      if (number < 1 || number > 2) return InvalidField("number", "must be a half, 1-2");
      first_q = number == 1 ? 1 : 3;
      last_q = first_q + 1;
      break;
    case PeriodKind::kNineMonths:
      last_q = 3;
      break;
    default:
      break;
  }
  const absl::CivilDay nominal(year, 3 * first_q - 2, 1);
  int d = 1;
  std::string source;
  auto pack = rules.PackOn(nominal);
  if (pack.ok() && (*pack)->has_reporting()) {
    d = (*pack)->reporting().quarter_start_day();
    source = (*pack)->reporting().source();
  }
  if (d <= 1) {
    return ReportSpan{nominal, absl::CivilDay(year, 3 * last_q + 1, 1) - 1, source};
  }
  // e.g. 15: from 15 December of the year before to 14 March.
  return ReportSpan{absl::CivilDay(year, 3 * first_q - 3, d),
                    absl::CivilDay(year, 3 * last_q, d) - 1, source};
}

}  // namespace reception
