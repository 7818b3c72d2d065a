#include "services/scheduling/ical_export.h"

#include <libical/ical.h>

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "services/common/civil_date.h"
#include "services/common/clock.h"

namespace reception::scheduling {
namespace {

// A Vietnam wall-clock time as UTC (Vietnam has no daylight saving: UTC+7).
icaltimetype At(absl::CivilDay day, int minutes) {
  const absl::Time t = absl::FromCivil(
      absl::CivilMinute(day.year(), day.month(), day.day(), minutes / 60, minutes % 60),
      VietnamTimeZone());
  const absl::CivilSecond utc = absl::ToCivilSecond(t, absl::UTCTimeZone());
  icaltimetype out = icaltime_null_time();
  out.year = static_cast<int>(utc.year());
  out.month = utc.month();
  out.day = utc.day();
  out.hour = utc.hour();
  out.minute = utc.minute();
  out.second = 0;
  out.zone = icaltimezone_get_utc_timezone();
  return out;
}

icalcomponent* Event(const std::string& uid, const std::string& summary, absl::CivilDay day,
                     int start, int end) {
  icalcomponent* ev = icalcomponent_new(ICAL_VEVENT_COMPONENT);
  icalcomponent_add_property(ev, icalproperty_new_uid(uid.c_str()));
  icalcomponent_add_property(
      ev,
      icalproperty_new_dtstamp(icaltime_current_time_with_zone(icaltimezone_get_utc_timezone())));
  icalcomponent_add_property(ev, icalproperty_new_dtstart(At(day, start)));
  icalcomponent_add_property(ev, icalproperty_new_dtend(At(day, end)));
  icalcomponent_add_property(ev, icalproperty_new_summary(summary.c_str()));
  return ev;
}

}  // namespace

std::string RenderICalendar(const std::string& unit, const v1::ReceptionPlan& plan,
                            const std::vector<PlannedDay>& days,
                            const v1::ListSessionsResponse& sessions) {
  icalcomponent* cal = icalcomponent_new(ICAL_VCALENDAR_COMPONENT);
  icalcomponent_add_property(cal, icalproperty_new_version("2.0"));
  icalcomponent_add_property(cal, icalproperty_new_prodid("-//reception//scheduling//VI"));
  icalcomponent_add_property(cal, icalproperty_new_method(ICAL_METHOD_PUBLISH));
  const int opens =
      ParseClock(plan.opens().empty() ? kDefaultOpens : plan.opens(), "opens").value_or(450);
  const int closes =
      ParseClock(plan.closes().empty() ? kDefaultCloses : plan.closes(), "closes").value_or(1020);
  for (const auto& d : days) {
    if (d.kind != v1::DAY_KIND_PERIODIC) continue;
    std::string summary =
        absl::StrCat("Tiếp công dân định kỳ của người đứng đầu (đơn vị ", unit, ")");
    if (d.moved_from) absl::StrAppend(&summary, " - dời từ ", FormatDate(*d.moved_from));
    icalcomponent_add_component(
        cal, Event(absl::StrCat("periodic-", unit, "-", FormatDate(d.day), "@reception"), summary,
                   d.day, opens, closes));
  }
  for (const auto& s : sessions.sessions()) {
    auto day = ToCivilDay(s.date(), "date");
    auto start = ParseClock(s.start(), "start");
    auto end = ParseClock(s.end(), "end");
    if (!day.ok() || !start.ok() || !end.ok()) continue;
    std::string summary =
        s.title().empty() ? absl::StrCat("Phiên tiếp công dân ", s.name()) : s.title();
    icalcomponent* ev = Event(absl::StrCat(s.name().substr(strlen("sessions/")), "@reception"),
                              summary, *day, *start, *end);
    icalcomponent_add_property(ev, icalproperty_new_sequence(static_cast<int>(s.version())));
    std::vector<std::string> bridges;
    for (const auto& b : s.bridges()) bridges.push_back(b.unit());
    std::string description =
        absl::StrCat("Chủ trì: ", s.presiding(), "\nĐơn vị chủ trì: ", s.host_unit());
    if (!bridges.empty())
      absl::StrAppend(&description, "\nĐiểm cầu: ", absl::StrJoin(bridges, ", "));
    if (!s.room().empty()) absl::StrAppend(&description, "\nPhòng trực tuyến: ", s.room());
    icalcomponent_add_property(ev, icalproperty_new_description(description.c_str()));
    icalcomponent_add_property(ev, icalproperty_new_status(s.state() == v1::SESSION_STATE_CANCELLED
                                                               ? ICAL_STATUS_CANCELLED
                                                               : ICAL_STATUS_CONFIRMED));
    icalcomponent_add_component(cal, ev);
  }
  char* text = icalcomponent_as_ical_string_r(cal);
  std::string out = text ? text : "";
  free(text);
  icalcomponent_free(cal);
  return out;
}

}  // namespace reception::scheduling
