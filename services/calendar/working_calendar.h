// The working-day calendar of state agencies and the Civil Code's counting of
// periods (Civil Code 2015 Arts 147-148): a period starts the day after the
// triggering event; a calendar-day period whose last day is a day off ends on
// the next working day; a working-day period counts only working days
// (weekdays that are not holidays, plus make-up working days). Pure: no
// clock, no storage, no gRPC.
//
// Years come from the calendar file as published; a year after the last
// listed one is derived from the statutory holidays in force (Labour Code
// 2019 Art 111-112, with Tết and Hùng Kings' day from the Vietnamese lunar
// calendar) and is provisional, as is a listed year marked provisional.
// Counting into a year before the last listed one that is not listed, or
// past every rule, is an error (OUT_OF_RANGE), never a guess.
#ifndef RECEPTION_SERVICES_CALENDAR_WORKING_CALENDAR_H_
#define RECEPTION_SERVICES_CALENDAR_WORKING_CALENDAR_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "reception/config/v1/config.pb.h"

namespace reception {

// How a period is counted.
enum class DayBasis { kCalendarDays, kWorkingDays };

// A closed interval of days during which the clock stops (suspension).
struct Pause {
  absl::CivilDay first;
  absl::CivilDay last;
};

// Immutable after construction; safe to share between threads.
class WorkingCalendar {
 public:
  // Validates: weekly days off set, years unique, every date inside its year,
  // days off on working weekdays, make-up days on weekly days off.
  static absl::StatusOr<WorkingCalendar> FromProto(config::v1::WorkingCalendarFile proto,
                                                   absl::string_view source);
  static absl::StatusOr<WorkingCalendar> LoadFile(const std::string& path);

  const std::string& name() const { return name_; }

  // The days off of `year` under the statutory rule in force that year,
  // compensating days included, as a provisional CalendarYear (what a year
  // gets before the Government publishes it). NOT_FOUND when no rule applies.
  absl::StatusOr<config::v1::CalendarYear> DeriveYear(int year) const;

  // Whether `year`'s days off are provisional (derived, or listed as
  // provisional). False for a year not covered at all.
  bool IsProvisional(int year) const;
  // The provisional years among those of [first, last], ascending.
  std::vector<int> ProvisionalYears(absl::CivilDay first, absl::CivilDay last) const;
  // For people: why those years are provisional and where their days came from.
  std::string ProvisionalReason(const std::vector<int>& years) const;

  // The last day of the last published (listed, not provisional) year; unset
  // when none is.
  std::optional<absl::CivilDay> PublishedUntil() const;
  // The last day any year is covered, published or provisional.
  std::optional<absl::CivilDay> CoveredUntil() const;

  // OUT_OF_RANGE when `day`'s year is not covered.
  absl::StatusOr<bool> IsWorkingDay(absl::CivilDay day) const;

  // `day` if it is a working day, else the next one.
  absl::StatusOr<absl::CivilDay> OnOrNextWorkingDay(absl::CivilDay day) const;

  // The last day of a period of `length` days following `event` (the event's
  // own day does not count). Days inside `pauses` do not count either
  // (overlapping pauses count once). A calendar-day period ending on a day
  // off ends on the next working day.
  absl::StatusOr<absl::CivilDay> PeriodEnd(absl::CivilDay event, int length, DayBasis basis,
                                           const std::vector<Pause>& pauses = {}) const;

  // Working days strictly after `from` up to and including `to` (0 if
  // `to` <= `from`).
  absl::StatusOr<int> WorkingDaysBetween(absl::CivilDay from, absl::CivilDay to) const;

 private:
  struct YearInfo {
    bool provisional = false;
    std::string source;
  };
  const config::v1::StatutoryHolidayRule* RuleFor(int year) const;
  bool IsWeeklyDayOff(absl::CivilDay day) const;
  absl::Status AddYear(const config::v1::CalendarYear& y, absl::string_view source);

  std::string name_;
  absl::flat_hash_set<int> weekly_days_off_;  // absl::Weekday as int
  absl::flat_hash_map<int, YearInfo> years_;
  std::vector<config::v1::StatutoryHolidayRule> rules_;  // by effective year, ascending
  absl::flat_hash_set<absl::CivilDay> days_off_;
  absl::flat_hash_set<absl::CivilDay> makeup_days_;
};

}  // namespace reception

#endif  // RECEPTION_SERVICES_CALENDAR_WORKING_CALENDAR_H_
