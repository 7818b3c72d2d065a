#include "services/calendar/working_calendar.h"

#include "absl/strings/str_cat.h"
#include "services/common/civil_date.h"
#include "services/common/yaml_proto.h"

namespace reception {
namespace {

// ISO numbering of the proto (Monday = 1) to absl::Weekday.
absl::Weekday ToWeekday(config::v1::Weekday w) {
  switch (w) {
    case config::v1::WEEKDAY_MONDAY: return absl::Weekday::monday;
    case config::v1::WEEKDAY_TUESDAY: return absl::Weekday::tuesday;
    case config::v1::WEEKDAY_WEDNESDAY: return absl::Weekday::wednesday;
    case config::v1::WEEKDAY_THURSDAY: return absl::Weekday::thursday;
    case config::v1::WEEKDAY_FRIDAY: return absl::Weekday::friday;
    case config::v1::WEEKDAY_SATURDAY: return absl::Weekday::saturday;
    default: return absl::Weekday::sunday;
  }
}

bool InPause(absl::CivilDay day, const std::vector<Pause>& pauses) {
  for (const auto& p : pauses) {
    if (day >= p.first && day <= p.last) return true;
  }
  return false;
}

// No real period is longer than a few hundred days; a bound keeps a bad
// input from looping for long.
constexpr int kMaxSteps = 5000;

}  // namespace

absl::StatusOr<WorkingCalendar> WorkingCalendar::FromProto(config::v1::WorkingCalendarFile proto,
                                                           absl::string_view source) {
  WorkingCalendar cal;
  cal.name_ = proto.name();
  auto err = [&](const std::string& what) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": ", what));
  };
  if (proto.weekly_days_off_size() == 0) return err("weekly_days_off must not be empty");
  for (int w : proto.weekly_days_off()) {
    cal.weekly_days_off_.insert(static_cast<int>(ToWeekday(static_cast<config::v1::Weekday>(w))));
  }
  if (proto.years_size() == 0) return err("years must not be empty");
  for (int i = 0; i < proto.years_size(); ++i) {
    const auto& y = proto.years(i);
    const std::string at = absl::StrCat("years[", i, "] (", y.year(), ")");
    if (!cal.years_.insert(y.year()).second) return err(absl::StrCat(at, " is listed twice"));
    if (y.source().empty()) return err(absl::StrCat(at, ".source must name the instrument"));
    for (int j = 0; j < y.days_off_size(); ++j) {
      auto day = ToCivilDay(y.days_off(j).date(), absl::StrCat(at, ".days_off[", j, "].date"));
      if (!day.ok()) return err(std::string(day.status().message()));
      if (day->year() != y.year()) return err(absl::StrCat(at, ".days_off[", j, "] is not in ", y.year()));
      if (cal.weekly_days_off_.contains(static_cast<int>(absl::GetWeekday(*day)))) {
        return err(absl::StrCat(at, ".days_off[", j, "] ", FormatDate(*day),
                                " is already a weekly day off; list the compensating weekday instead"));
      }
      cal.days_off_.insert(*day);
    }
    for (int j = 0; j < y.makeup_working_days_size(); ++j) {
      auto day = ToCivilDay(y.makeup_working_days(j).date(),
                            absl::StrCat(at, ".makeup_working_days[", j, "].date"));
      if (!day.ok()) return err(std::string(day.status().message()));
      if (day->year() != y.year()) {
        return err(absl::StrCat(at, ".makeup_working_days[", j, "] is not in ", y.year()));
      }
      if (!cal.weekly_days_off_.contains(static_cast<int>(absl::GetWeekday(*day)))) {
        return err(absl::StrCat(at, ".makeup_working_days[", j, "] ", FormatDate(*day),
                                " is already a working day"));
      }
      cal.makeup_days_.insert(*day);
    }
  }
  return cal;
}

absl::StatusOr<WorkingCalendar> WorkingCalendar::LoadFile(const std::string& path) {
  config::v1::WorkingCalendarFile proto;
  if (auto s = LoadYamlFile(path, &proto); !s.ok()) return s;
  return FromProto(std::move(proto), path);
}

absl::StatusOr<bool> WorkingCalendar::IsWorkingDay(absl::CivilDay day) const {
  if (!years_.contains(static_cast<int>(day.year()))) {
    return absl::OutOfRangeError(absl::StrCat(
        "the working calendar \"", name_, "\" does not cover ", day.year(), " (needed for ",
        FormatDate(day), "); add that year's holidays to the calendar file"));
  }
  if (makeup_days_.contains(day)) return true;
  if (days_off_.contains(day)) return false;
  return !weekly_days_off_.contains(static_cast<int>(absl::GetWeekday(day)));
}

absl::StatusOr<absl::CivilDay> WorkingCalendar::OnOrNextWorkingDay(absl::CivilDay day) const {
  for (int i = 0; i < kMaxSteps; ++i, ++day) {
    auto working = IsWorkingDay(day);
    if (!working.ok()) return working.status();
    if (*working) return day;
  }
  return absl::OutOfRangeError("no working day found");
}

absl::StatusOr<absl::CivilDay> WorkingCalendar::PeriodEnd(absl::CivilDay event, int length,
                                                          DayBasis basis,
                                                          const std::vector<Pause>& pauses) const {
  if (length < 1) return absl::InvalidArgumentError("a period must be at least 1 day long");
  absl::CivilDay day = event;
  int counted = 0;
  for (int steps = 0; counted < length; ++steps) {
    if (steps > kMaxSteps) return absl::OutOfRangeError("the period does not end");
    ++day;
    if (InPause(day, pauses)) continue;
    if (basis == DayBasis::kWorkingDays) {
      auto working = IsWorkingDay(day);
      if (!working.ok()) return working.status();
      if (!*working) continue;
    }
    ++counted;
  }
  if (basis == DayBasis::kWorkingDays) return day;
  // A calendar-day period that ends on a day off ends on the next working
  // day (Civil Code Art 148).
  return OnOrNextWorkingDay(day);
}

absl::StatusOr<int> WorkingCalendar::WorkingDaysBetween(absl::CivilDay from, absl::CivilDay to) const {
  int n = 0;
  for (absl::CivilDay d = from + 1; d <= to; ++d) {
    if (d - from > kMaxSteps) return absl::OutOfRangeError("the interval is too long");
    auto working = IsWorkingDay(d);
    if (!working.ok()) return working.status();
    if (*working) ++n;
  }
  return n;
}

}  // namespace reception
