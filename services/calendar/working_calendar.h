// The working-day calendar of state agencies and the Civil Code's counting of
// periods (Civil Code 2015 Arts 147-148): a period starts the day after the
// triggering event; a calendar-day period whose last day is a day off ends on
// the next working day; a working-day period counts only working days
// (weekdays that are not holidays, plus make-up working days). Pure: no
// clock, no storage, no gRPC. Counting into a year the calendar does not
// cover is an error (OUT_OF_RANGE), never a guess.
#ifndef RECEPTION_SERVICES_CALENDAR_WORKING_CALENDAR_H_
#define RECEPTION_SERVICES_CALENDAR_WORKING_CALENDAR_H_

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
  std::string name_;
  absl::flat_hash_set<int> weekly_days_off_;  // absl::Weekday as int
  absl::flat_hash_set<int> years_;
  absl::flat_hash_set<absl::CivilDay> days_off_;
  absl::flat_hash_set<absl::CivilDay> makeup_days_;
};

}  // namespace reception

#endif  // RECEPTION_SERVICES_CALENDAR_WORKING_CALENDAR_H_
