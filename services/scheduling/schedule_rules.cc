#include "services/scheduling/schedule_rules.h"

#include <algorithm>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "services/common/civil_date.h"
#include "services/common/report_period.h"
#include "services/common/status.h"

namespace reception::scheduling {
namespace {

absl::CivilDay LastOfMonth(absl::CivilMonth m) { return absl::CivilDay(m + 1) - 1; }

std::string Clock(int minutes) {
  return absl::StrCat(minutes / 60 < 10 ? "0" : "", minutes / 60, ":", minutes % 60 < 10 ? "0" : "",
                      minutes % 60);
}

const config::v1::ReceptionFrequencyRule* RuleFor(const RuleBook& rules, type::v1::UnitLevel level,
                                                  absl::CivilDay day, std::string* pack,
                                                  absl::CivilDay* effective = nullptr) {
  auto p = rules.PackOn(day);
  if (!p.ok()) return nullptr;
  for (const auto& r : (*p)->reception_frequency()) {
    if (r.level() == level) {
      *pack = (*p)->id();
      if (effective != nullptr) {
        const auto& e = (*p)->effective_from();
        *effective = e.year() == 0 ? absl::CivilDay(1900, 1, 1)
                                   : absl::CivilDay(e.year(), e.month(), e.day());
      }
      return &r;
    }
  }
  return nullptr;
}

}  // namespace

absl::StatusOr<int> ParseClock(absl::string_view text, absl::string_view field) {
  int h = 0, m = 0;
  if (text.size() != 5 || text[2] != ':' || !absl::SimpleAtoi(text.substr(0, 2), &h) ||
      !absl::SimpleAtoi(text.substr(3, 2), &m) || h < 0 || h > 23 || m < 0 || m > 59) {
    return InvalidField(field, "must be a time of day HH:MM (00:00-23:59)");
  }
  return h * 60 + m;
}

absl::Status ValidatePlan(const v1::ReceptionPlan& plan) {
  auto opens = ParseClock(plan.opens(), "plan.opens");
  if (!opens.ok()) return opens.status();
  auto closes = ParseClock(plan.closes(), "plan.closes");
  if (!closes.ok()) return closes.status();
  if (*closes <= *opens) return InvalidField("plan.closes", "must be after plan.opens");
  if (plan.periodic_days_size() > 31)
    return InvalidField("plan.periodic_days", "must list at most 31 days");
  for (int i = 0; i < plan.periodic_days_size(); ++i) {
    const auto& d = plan.periodic_days(i);
    const std::string field = absl::StrCat("plan.periodic_days[", i, "]");
    switch (d.when_case()) {
      case v1::PeriodicDay::kDayOfMonth:
        if (d.day_of_month() < 1 || d.day_of_month() > 31)
          return InvalidField(field + ".day_of_month", "must be 1-31");
        break;
      case v1::PeriodicDay::kWeekday:
        if (d.weekday() == v1::WEEKDAY_UNSPECIFIED || !v1::Weekday_IsValid(d.weekday())) {
          return InvalidField(field + ".weekday", "must name a day of the week");
        }
        break;
      default:
        return InvalidField(field, "must set day_of_month or weekday");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<PlannedDay>> PlannedDays(const v1::ReceptionPlan& plan,
                                                    const WorkingCalendar& calendar,
                                                    absl::CivilDay from, absl::CivilDay to) {
  std::vector<PlannedDay> out;
  for (absl::CivilDay d = from; d <= to; ++d) {
    auto working = calendar.IsWorkingDay(d);
    if (!working.ok()) return working.status();
    if (*working) out.push_back({d, v1::DAY_KIND_REGULAR, std::nullopt});
  }
  // Nominal periodic days from a month before `from` (one moved forward may
  // land in range), moved to the next working day.
  std::set<absl::CivilDay> periodic;
  std::map<absl::CivilDay, absl::CivilDay> moved;
  auto add = [&](absl::CivilDay nominal) -> absl::Status {
    auto day = calendar.OnOrNextWorkingDay(nominal);
    if (!day.ok()) {
      if (nominal < from || nominal > to)
        return absl::OkStatus();  // outside: only needed if it moves in
      return day.status();
    }
    if (*day < from || *day > to) return absl::OkStatus();
    if (periodic.insert(*day).second && *day != nominal) moved[*day] = nominal;
    return absl::OkStatus();
  };
  for (const auto& p : plan.periodic_days()) {
    if (p.when_case() == v1::PeriodicDay::kDayOfMonth) {
      for (absl::CivilMonth m = absl::CivilMonth(from) - 1; m <= absl::CivilMonth(to); ++m) {
        const absl::CivilDay last = LastOfMonth(m);
        const absl::CivilDay nominal = std::min(absl::CivilDay(m) + (p.day_of_month() - 1), last);
        if (auto s = add(nominal); !s.ok()) return s;
      }
    } else if (p.when_case() == v1::PeriodicDay::kWeekday) {
      // absl::Weekday: monday = 0 ... sunday = 6.
      const auto target = static_cast<absl::Weekday>(static_cast<int>(p.weekday()) - 1);
      absl::CivilDay d = absl::PrevWeekday(from + 1, target);  // on or before `from`
      for (; d <= to; d += 7) {
        if (auto s = add(d); !s.ok()) return s;
      }
    }
  }
  for (const auto& d : periodic) {
    auto it = moved.find(d);
    out.push_back(
        {d, v1::DAY_KIND_PERIODIC, it == moved.end() ? std::nullopt : std::optional(it->second)});
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const PlannedDay& a, const PlannedDay& b) { return a.day < b.day; });
  return out;
}

absl::StatusOr<std::pair<absl::CivilDay, absl::CivilDay>> ReportRange(v1::ReportPeriod period,
                                                                      int year, int number,
                                                                      const RuleBook& rules) {
  if (period != v1::REPORT_PERIOD_MONTH && period != v1::REPORT_PERIOD_QUARTER) {
    return InvalidField("period", "must be month or quarter");
  }
  RECEPTION_ASSIGN_OR_RETURN(
      ReportSpan span, ReportPeriodSpan(period == v1::REPORT_PERIOD_MONTH ? PeriodKind::kMonth
                                                                          : PeriodKind::kQuarter,
                                        year, number, rules));
  return std::make_pair(span.first, span.last);
}

absl::StatusOr<v1::ComplianceReport> Compliance(const std::string& unit, type::v1::UnitLevel level,
                                                absl::CivilDay from, absl::CivilDay to,
                                                const std::vector<HeldDay>& held,
                                                const std::vector<PlannedDay>& planned,
                                                const RuleBook& rules,
                                                const WorkingCalendar* calendar) {
  if (to < from) return InvalidField("to", "must not be before from");
  v1::ComplianceReport report;
  report.set_unit(unit);
  *report.mutable_from() = ToProtoDate(from);
  *report.mutable_to() = ToProtoDate(to);
  std::map<absl::CivilDay, const HeldDay*> held_by_day;
  for (const auto& h : held) {
    if (h.role == v1::PRESIDING_ROLE_HEAD || h.role == v1::PRESIDING_ROLE_DEPUTY)
      held_by_day.emplace(h.day, &h);
  }
  struct Span {
    absl::CivilDay first, last;
    config::v1::ReceptionPeriod per;
  };
  std::vector<Span> spans;
  // Weeks (Monday to Sunday) and months ending inside [from, to].
  for (absl::CivilDay sunday = absl::NextWeekday(from - 1, absl::Weekday::sunday); sunday <= to;
       sunday += 7) {
    spans.push_back({sunday - 6, sunday, config::v1::RECEPTION_PERIOD_WEEK});
  }
  for (absl::CivilMonth m(from); absl::CivilDay(m) <= to; ++m) {
    const absl::CivilDay last = LastOfMonth(m);
    if (last >= from && last <= to)
      spans.push_back({absl::CivilDay(m), last, config::v1::RECEPTION_PERIOD_MONTH});
  }
  std::sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) {
    return a.last != b.last ? a.last < b.last : a.per < b.per;
  });
  for (Span sp : spans) {
    std::string pack;
    absl::CivilDay effective;
    // The rule in force when the span ends judges it, over its days from
    // that rule's effective date.
    const auto* rule = RuleFor(rules, level, sp.last, &pack, &effective);
    if (rule == nullptr || rule->per() != sp.per) continue;
    std::string note;
    if (effective > sp.first) {
      note = absl::StrCat("judged from ", FormatDate(effective), ", when ", pack,
                          " took effect; the days before belong to no span of this rule");
      sp.first = effective;
    }
    int required = rule->min_days();
    if (calendar != nullptr) {
      int working = 0;
      bool known = true;
      for (absl::CivilDay d = sp.first; d <= sp.last && known; ++d) {
        auto w = calendar->IsWorkingDay(d);
        known = w.ok();
        working += w.ok() && *w;
      }
      if (known && working < required) {
        required = working;
        absl::StrAppend(&note, note.empty() ? "" : "; ", "only ", working,
                        " working day(s) in the span (days off), so ", working, " required of ",
                        rule->min_days());
      }
    }
    auto* out = report.add_spans();
    *out->mutable_from() = ToProtoDate(sp.first);
    *out->mutable_to() = ToProtoDate(sp.last);
    out->set_rule(absl::StrCat(rule->min_days(), " day(s) a ",
                               sp.per == config::v1::RECEPTION_PERIOD_WEEK ? "week" : "month", " (",
                               pack, "/", rule->id(), ": ", rule->source(), ")"));
    out->set_required(required);
    out->set_note(note);
    int n = 0;
    for (auto it = held_by_day.lower_bound(sp.first);
         it != held_by_day.end() && it->first <= sp.last; ++it) {
      ++n;
      out->add_presided(
          absl::StrCat(FormatDate(it->first), " ", it->second->presided_by, " (",
                       it->second->role == v1::PRESIDING_ROLE_HEAD ? "head" : "deputy", ")"));
      if (it->second->role == v1::PRESIDING_ROLE_HEAD) {
        report.set_presided_by_head(report.presided_by_head() + 1);
      } else {
        report.set_presided_by_deputy(report.presided_by_deputy() + 1);
      }
    }
    out->set_held(n);
    out->set_gap(n < required);
    for (const auto& p : planned) {
      if (p.kind == v1::DAY_KIND_PERIODIC && p.day >= sp.first && p.day <= sp.last &&
          !held_by_day.count(p.day)) {
        *out->add_missed_planned_days() = ToProtoDate(p.day);
      }
    }
    report.set_required(report.required() + required);
    report.set_held(report.held() + std::min(n, required));
    report.set_gaps(report.gaps() + (out->gap() ? 1 : 0));
  }
  return report;
}

absl::Status CheckConflicts(const v1::Session& s, const v1::ReceptionPlan& plan,
                            const WorkingCalendar& calendar, const std::vector<Booking>& booked,
                            const std::string& ignore) {
  auto day = ToCivilDay(s.date(), "session.date");
  if (!day.ok()) return day.status();
  auto start = ParseClock(s.start(), "session.start");
  if (!start.ok()) return start.status();
  auto end = ParseClock(s.end(), "session.end");
  if (!end.ok()) return end.status();
  if (*end <= *start) return InvalidField("session.end", "must be after session.start");
  auto working = calendar.IsWorkingDay(*day);
  if (!working.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("conflict: ", FormatDate(*day),
                     " is outside the working calendar: ", working.status().message()));
  }
  if (!*working) {
    return absl::FailedPreconditionError(
        absl::StrCat("conflict: ", FormatDate(*day), " is a day off"));
  }
  const int opens = *ParseClock(plan.opens().empty() ? kDefaultOpens : plan.opens(), "opens");
  const int closes = *ParseClock(plan.closes().empty() ? kDefaultCloses : plan.closes(), "closes");
  if (*start < opens || *end > closes) {
    return absl::FailedPreconditionError(absl::StrCat("conflict: ", s.start(), "-", s.end(),
                                                      " is outside working hours ", Clock(opens),
                                                      "-", Clock(closes)));
  }
  for (const auto& b : booked) {
    if (b.name == ignore || b.day != *day || !(b.start < *end && *start < b.end)) continue;
    if (!s.presiding().empty() && b.presiding == s.presiding()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "conflict: the presiding official ", s.presiding(), " is already booked for ", b.name,
          " (", Clock(b.start), "-", Clock(b.end), ")"));
    }
    for (const auto& bridge : s.bridges()) {
      if (std::find(b.bridges.begin(), b.bridges.end(), bridge.unit()) != b.bridges.end()) {
        return absl::FailedPreconditionError(absl::StrCat("conflict: bridge ", bridge.unit(),
                                                          " is already in ", b.name, " (",
                                                          Clock(b.start), "-", Clock(b.end), ")"));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace reception::scheduling
