// The calendar rules of reception, pure (no clock, no storage, no gRPC):
// the days a reception plan gives (a periodic day on a day off moves to the
// next working day), the reporting periods (quarters cut on the rule pack's
// day), whether a unit held the legal minimum of periodic reception in each
// week or month (the rule in force on the span's first day), and the
// conflicts that refuse a session.
#ifndef RECEPTION_SERVICES_SCHEDULING_SCHEDULE_RULES_H_
#define RECEPTION_SERVICES_SCHEDULING_SCHEDULE_RULES_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "reception/scheduling/v1/scheduling_service.pb.h"
#include "services/calendar/working_calendar.h"
#include "services/common/rule_book.h"

namespace reception::scheduling {

// "HH:MM" -> minutes after midnight; INVALID_ARGUMENT naming `field`.
absl::StatusOr<int> ParseClock(absl::string_view text, absl::string_view field);

// Regular hours when a unit has no plan.
inline constexpr char kDefaultOpens[] = "07:30";
inline constexpr char kDefaultCloses[] = "17:00";

struct PlannedDay {
  absl::CivilDay day;
  v1::DayKind kind;
  std::optional<absl::CivilDay> moved_from;  // a periodic day moved off a day off
};

// Checks a plan: hours, periodic days (day of month 1-31 or a weekday).
absl::Status ValidatePlan(const v1::ReceptionPlan& plan);

// Regular reception on every working day and the head's periodic days in
// [from, to], in date order (a periodic day and a regular one on the same
// date are both listed). OUT_OF_RANGE past the calendar's years.
absl::StatusOr<std::vector<PlannedDay>> PlannedDays(const v1::ReceptionPlan& plan,
                                                    const WorkingCalendar& calendar,
                                                    absl::CivilDay from, absl::CivilDay to);

// The first and last day of a month, or of a reporting quarter under the
// pack in force on the quarter's nominal first day.
absl::StatusOr<std::pair<absl::CivilDay, absl::CivilDay>> ReportRange(v1::ReportPeriod period,
                                                                      int year, int number,
                                                                      const RuleBook& rules);

// A periodic reception day that was held.
struct HeldDay {
  absl::CivilDay day;
  std::string presided_by;
  v1::PresidingRole role = v1::PRESIDING_ROLE_HEAD;
};

// Judges every week or month that ends inside [from, to] (so consecutive
// reports judge each span once) against the rule for the unit's level in
// force on the span's LAST day (a duty per week or month is complete when
// the span ends), over the span's days from that rule's effective date on:
// where the rule changed inside a span, the days before the change belong
// to no span of the new rule and the old rule's span that would hold them
// ends under the new rule, so it is not judged (vn.yaml's notes give the
// reasoning); no held day ever counts for two spans. With `calendar`, a span
// with fewer working days than the minimum requires only those (none in a
// week of Tết) and says so. Planned periodic days not held are listed;
// spans under no rule are left out.
absl::StatusOr<v1::ComplianceReport> Compliance(const std::string& unit, type::v1::UnitLevel level,
                                                absl::CivilDay from, absl::CivilDay to,
                                                const std::vector<HeldDay>& held,
                                                const std::vector<PlannedDay>& planned,
                                                const RuleBook& rules,
                                                const WorkingCalendar* calendar = nullptr);

// A session already booked, for conflict checks.
struct Booking {
  std::string name;
  absl::CivilDay day;
  int start = 0, end = 0;  // minutes
  std::string presiding;
  std::vector<std::string> bridges;
};

// FAILED_PRECONDITION naming the first conflict: a day off, outside the
// host's working hours, the presiding official or a bridge already booked
// at an overlapping time. `ignore` is the session being moved.
absl::Status CheckConflicts(const v1::Session& s, const v1::ReceptionPlan& plan,
                            const WorkingCalendar& calendar, const std::vector<Booking>& booked,
                            const std::string& ignore = "");

}  // namespace reception::scheduling

#endif  // RECEPTION_SERVICES_SCHEDULING_SCHEDULE_RULES_H_
