#include "services/calendar/working_calendar.h"

#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "services/calendar/lunar_calendar.h"
#include "services/common/civil_date.h"
#include "services/common/yaml_proto.h"

namespace reception {
namespace {

// ISO numbering of the proto (Monday = 1) to absl::Weekday.
absl::Weekday ToWeekday(config::v1::Weekday w) {
  switch (w) {
    case config::v1::WEEKDAY_MONDAY:
      return absl::Weekday::monday;
    case config::v1::WEEKDAY_TUESDAY:
      return absl::Weekday::tuesday;
    case config::v1::WEEKDAY_WEDNESDAY:
      return absl::Weekday::wednesday;
    case config::v1::WEEKDAY_THURSDAY:
      return absl::Weekday::thursday;
    case config::v1::WEEKDAY_FRIDAY:
      return absl::Weekday::friday;
    case config::v1::WEEKDAY_SATURDAY:
      return absl::Weekday::saturday;
    default:
      return absl::Weekday::sunday;
  }
}

const char* WeekdayName(absl::CivilDay day) {
  switch (absl::GetWeekday(day)) {
    case absl::Weekday::monday:
      return "Monday";
    case absl::Weekday::tuesday:
      return "Tuesday";
    case absl::Weekday::wednesday:
      return "Wednesday";
    case absl::Weekday::thursday:
      return "Thursday";
    case absl::Weekday::friday:
      return "Friday";
    case absl::Weekday::saturday:
      return "Saturday";
    case absl::Weekday::sunday:
      return "Sunday";
  }
  return "";
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

absl::Status WorkingCalendar::AddYear(const config::v1::CalendarYear& y, absl::string_view at) {
  auto err = [&](const std::string& what) {
    return absl::InvalidArgumentError(absl::StrCat(at, what));
  };
  if (y.source().empty()) return err(".source must name the instrument");
  if (!years_.emplace(y.year(), YearInfo{y.provisional(), y.source()}).second) {
    return err(" is listed twice");
  }
  for (int j = 0; j < y.days_off_size(); ++j) {
    auto day = ToCivilDay(y.days_off(j).date(), absl::StrCat(at, ".days_off[", j, "].date"));
    if (!day.ok()) return day.status();
    if (day->year() != y.year())
      return err(absl::StrCat(".days_off[", j, "] is not in ", y.year()));
    if (IsWeeklyDayOff(*day)) {
      return err(
          absl::StrCat(".days_off[", j, "] ", FormatDate(*day),
                       " is already a weekly day off; list the compensating weekday instead"));
    }
    days_off_.insert(*day);
  }
  for (int j = 0; j < y.makeup_working_days_size(); ++j) {
    auto day = ToCivilDay(y.makeup_working_days(j).date(),
                          absl::StrCat(at, ".makeup_working_days[", j, "].date"));
    if (!day.ok()) return day.status();
    if (day->year() != y.year()) {
      return err(absl::StrCat(".makeup_working_days[", j, "] is not in ", y.year()));
    }
    if (!IsWeeklyDayOff(*day)) {
      return err(absl::StrCat(".makeup_working_days[", j, "] ", FormatDate(*day),
                              " is already a working day"));
    }
    makeup_days_.insert(*day);
  }
  return absl::OkStatus();
}

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
  for (int i = 0; i < proto.statutory_rules_size(); ++i) {
    const auto& r = proto.statutory_rules(i);
    const std::string at = absl::StrCat("statutory_rules[", i, "]");
    if (r.source().empty()) return err(absl::StrCat(at, ".source must name the statute"));
    if (r.effective_from_year() < LunarCalendar::kFirstYear ||
        r.effective_from_year() > LunarCalendar::kLastYear) {
      return err(absl::StrCat(at, ".effective_from_year must be ", LunarCalendar::kFirstYear, "-",
                              LunarCalendar::kLastYear));
    }
    if (i > 0 && r.effective_from_year() <= proto.statutory_rules(i - 1).effective_from_year()) {
      return err(absl::StrCat(at, ".effective_from_year must come after the previous rule's"));
    }
    if (r.holidays_size() == 0) return err(absl::StrCat(at, ".holidays must not be empty"));
    for (int j = 0; j < r.holidays_size(); ++j) {
      const auto& h = r.holidays(j);
      const std::string hat = absl::StrCat(at, ".holidays[", j, "]");
      if (h.name().empty()) return err(absl::StrCat(hat, ".name must not be empty"));
      if (h.has_solar() == h.has_lunar())
        return err(absl::StrCat(hat, " must give exactly one of solar and lunar"));
      const auto& md = h.has_solar() ? h.solar() : h.lunar();
      if (md.month() < 1 || md.month() > 12 || md.day() < 1 ||
          md.day() > (h.has_lunar() ? 30 : 31)) {
        return err(
            absl::StrCat(hat, h.has_solar() ? ".solar" : ".lunar", " is not a day of the year"));
      }
      if (h.days() < 0 || h.days() > 14 || h.first_offset_days() < -14 ||
          h.first_offset_days() > 14) {
        return err(absl::StrCat(hat, ": days must be 0-14 and first_offset_days -14..14"));
      }
    }
    cal.rules_.push_back(r);
  }
  int last_listed = 0;
  for (int i = 0; i < proto.years_size(); ++i) {
    const auto& y = proto.years(i);
    if (auto s = cal.AddYear(y, absl::StrCat("years[", i, "] (", y.year(), ")")); !s.ok()) {
      return err(std::string(s.message()));
    }
    last_listed = std::max(last_listed, y.year());
  }
  // Every year after the last listed one, as the statute gives it.
  for (int year = last_listed + 1; year <= LunarCalendar::kLastYear; ++year) {
    if (cal.RuleFor(year) == nullptr) continue;
    auto derived = cal.DeriveYear(year);
    if (!derived.ok())
      return err(absl::StrCat("deriving ", year, ": ", derived.status().message()));
    if (auto s = cal.AddYear(*derived, absl::StrCat("derived year ", year)); !s.ok()) {
      return err(std::string(s.message()));
    }
  }
  return cal;
}

bool WorkingCalendar::IsWeeklyDayOff(absl::CivilDay day) const {
  return weekly_days_off_.contains(static_cast<int>(absl::GetWeekday(day)));
}

const config::v1::StatutoryHolidayRule* WorkingCalendar::RuleFor(int year) const {
  const config::v1::StatutoryHolidayRule* found = nullptr;
  for (const auto& r : rules_) {
    if (r.effective_from_year() <= year) found = &r;
  }
  return found;
}

absl::StatusOr<config::v1::CalendarYear> WorkingCalendar::DeriveYear(int year) const {
  const config::v1::StatutoryHolidayRule* rule = RuleFor(year);
  if (rule == nullptr) {
    return absl::NotFoundError(absl::StrCat("no statutory holiday rule applies to ", year));
  }
  const LunarCalendar lunar;
  // The holidays, each day with its name, in date order.
  std::map<absl::CivilDay, std::string> holidays;
  for (const auto& h : rule->holidays()) {
    absl::CivilDay base;
    if (h.has_solar()) {
      base = absl::CivilDay(year, h.solar().month(), h.solar().day());
      if (base.month() != h.solar().month()) {
        return absl::InvalidArgumentError(absl::StrCat(h.name(), ": ", year, " has no such day"));
      }
    } else {
      auto d = lunar.ToSolar(LunarDate{year, h.lunar().month(), h.lunar().day(), false});
      if (!d.ok()) return d.status();
      base = *d;
    }
    const absl::CivilDay first = base + h.first_offset_days();
    const absl::CivilDay last = first + (std::max(h.days(), 1) - 1);
    for (absl::CivilDay d = first; d <= last; ++d) holidays.emplace(d, h.name());
    if (h.adjacent_day() == config::v1::ADJACENT_DAY_BEFORE_ELSE_AFTER) {
      const absl::CivilDay adjacent = IsWeeklyDayOff(first - 1) ? last + 1 : first - 1;
      holidays.emplace(adjacent, absl::StrCat(h.name(), " (adjacent day)"));
    }
  }
  config::v1::CalendarYear out;
  out.set_year(year);
  out.set_provisional(true);
  out.set_source(absl::StrCat(rule->source(), " (statutory days)"));
  std::map<absl::CivilDay, std::string> off;
  for (const auto& [day, name] : holidays) {
    if (!IsWeeklyDayOff(day)) {
      off.emplace(day, name);
      continue;
    }
    if (!rule->compensate_weekly_days_off()) continue;
    // A holiday on a weekly day off: the next working day not already off.
    absl::CivilDay next = day + 1;
    while (IsWeeklyDayOff(next) || holidays.contains(next) || off.contains(next)) ++next;
    off.emplace(next, absl::StrCat(name, ", ", FormatDate(day), " (", WeekdayName(day),
                                   "): day off in lieu"));
  }
  for (const auto& [day, name] : off) {
    if (day.year() != year) continue;
    auto* d = out.add_days_off();
    *d->mutable_date() = ToProtoDate(day);
    d->set_name(name);
  }
  return out;
}

bool WorkingCalendar::IsProvisional(int year) const {
  auto it = years_.find(year);
  return it != years_.end() && it->second.provisional;
}

std::vector<int> WorkingCalendar::ProvisionalYears(absl::CivilDay first,
                                                   absl::CivilDay last) const {
  std::vector<int> out;
  for (int y = static_cast<int>(first.year()); y <= static_cast<int>(last.year()); ++y) {
    if (IsProvisional(y)) out.push_back(y);
  }
  return out;
}

std::string WorkingCalendar::ProvisionalReason(const std::vector<int>& years) const {
  // Years that share a source are named together: "2027-2029: Labour Code ...".
  std::vector<std::pair<std::vector<int>, std::string>> groups;
  for (int y : years) {
    auto it = years_.find(y);
    if (it == years_.end()) continue;
    if (!groups.empty() && groups.back().second == it->second.source &&
        groups.back().first.back() == y - 1) {
      groups.back().first.push_back(y);
    } else {
      groups.push_back({{y}, it->second.source});
    }
  }
  std::vector<std::string> parts;
  for (const auto& [ys, source] : groups) {
    parts.push_back(
        absl::StrCat(ys.front(), ys.size() > 1 ? absl::StrCat("-", ys.back()) : "", ": ", source));
  }
  return absl::StrCat(
      "counted on days off the Government has not published yet: ", absl::StrJoin(parts, "; "),
      ". The date may move when the year's calendar is published");
}

std::optional<absl::CivilDay> WorkingCalendar::PublishedUntil() const {
  std::optional<int> last;
  for (const auto& [year, info] : years_) {
    if (!info.provisional && (!last || year > *last)) last = year;
  }
  if (!last) return std::nullopt;
  return absl::CivilDay(*last, 12, 31);
}

std::optional<absl::CivilDay> WorkingCalendar::CoveredUntil() const {
  std::optional<int> last;
  for (const auto& [year, info] : years_) {
    if (!last || year > *last) last = year;
  }
  if (!last) return std::nullopt;
  return absl::CivilDay(*last, 12, 31);
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
        FormatDate(day), "); add that year's holidays to the calendar file",
        rules_.empty() ? " (or a statutory_rules entry to derive years not yet published)" : ""));
  }
  if (makeup_days_.contains(day)) return true;
  if (days_off_.contains(day)) return false;
  return !IsWeeklyDayOff(day);
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

absl::StatusOr<int> WorkingCalendar::WorkingDaysBetween(absl::CivilDay from,
                                                        absl::CivilDay to) const {
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
