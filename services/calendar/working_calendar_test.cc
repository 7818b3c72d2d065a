#include "services/calendar/working_calendar.h"

#include "gtest/gtest.h"
#include "services/common/civil_date.h"
#include "services/common/yaml_proto.h"

namespace reception {
namespace {

using D = absl::CivilDay;

// A synthetic calendar (not the published one): 2026 with a nine-day lunar
// new year block (Sat 14 Feb - Sun 22 Feb, weekdays 16-20 off), a swapped
// day off Fri 2 Jan made up on Sat 10 Jan, and 30 Apr / 1 May.
WorkingCalendar Synthetic() {
  config::v1::WorkingCalendarFile proto;
  auto s = ParseYaml(R"(
name: synthetic
weekly_days_off: [saturday, sunday]
years:
  - year: 2026
    source: test data
    days_off:
      - {date: 2026-01-01, name: New Year}
      - {date: 2026-01-02, name: swapped}
      - {date: 2026-02-16, name: lunar new year}
      - {date: 2026-02-17, name: lunar new year}
      - {date: 2026-02-18, name: lunar new year}
      - {date: 2026-02-19, name: lunar new year}
      - {date: 2026-02-20, name: lunar new year}
      - {date: 2026-04-30, name: reunification}
      - {date: 2026-05-01, name: labour day}
    makeup_working_days:
      - {date: 2026-01-10, replaces: 2026-01-02}
)", "synthetic.yaml", &proto);
  EXPECT_TRUE(s.ok()) << s;
  auto cal = WorkingCalendar::FromProto(proto, "synthetic.yaml");
  EXPECT_TRUE(cal.ok()) << cal.status();
  return *cal;
}

struct Row {
  const char* what;
  D event;
  int length;
  DayBasis basis;
  D due;
};

TEST(WorkingCalendar, CivilCodeCounting) {
  const WorkingCalendar cal = Synthetic();
  const Row rows[] = {
      // The event's own day never counts.
      {"1 working day after a Friday is Monday", D(2026, 3, 6), 1, DayBasis::kWorkingDays, D(2026, 3, 9)},
      {"1 calendar day after a Monday is Tuesday", D(2026, 3, 9), 1, DayBasis::kCalendarDays, D(2026, 3, 10)},
      // A calendar-day period whose last day is off ends on the next working day.
      {"last day a Sunday moves to Monday", D(2026, 3, 12), 10, DayBasis::kCalendarDays, D(2026, 3, 23)},
      {"last day a holiday (30 Apr) moves past 1 May and the weekend", D(2026, 4, 20), 10,
       DayBasis::kCalendarDays, D(2026, 5, 4)},
      {"calendar period across the new year block ends inside it, so after it", D(2026, 2, 5), 10,
       DayBasis::kCalendarDays, D(2026, 2, 23)},
      {"calendar period crossing the block counts its days", D(2026, 2, 10), 30, DayBasis::kCalendarDays,
       D(2026, 3, 12)},
      // Working-day periods skip weekends and holidays...
      {"7 working days across the new year block", D(2026, 2, 12), 7, DayBasis::kWorkingDays,
       D(2026, 3, 2)},
      {"5 working days around 30 Apr / 1 May", D(2026, 4, 28), 5, DayBasis::kWorkingDays, D(2026, 5, 7)},
      // ...and count make-up Saturdays.
      {"make-up Saturday counts", D(2026, 1, 8), 2, DayBasis::kWorkingDays, D(2026, 1, 10)},
      {"swapped Friday does not", D(2026, 1, 1), 1, DayBasis::kWorkingDays, D(2026, 1, 5)},
  };
  for (const auto& r : rows) {
    auto due = cal.PeriodEnd(r.event, r.length, r.basis);
    ASSERT_TRUE(due.ok()) << r.what << ": " << due.status();
    EXPECT_EQ(*due, r.due) << r.what << ": got " << FormatDate(*due);
  }
}

TEST(WorkingCalendar, PausesStopTheClock) {
  const WorkingCalendar cal = Synthetic();
  // 30 calendar days from 2 Mar end 1 Apr; a 5-day pause moves that to 6 Apr.
  EXPECT_EQ(*cal.PeriodEnd(D(2026, 3, 2), 30, DayBasis::kCalendarDays), D(2026, 4, 1));
  EXPECT_EQ(*cal.PeriodEnd(D(2026, 3, 2), 30, DayBasis::kCalendarDays, {{D(2026, 3, 10), D(2026, 3, 14)}}),
            D(2026, 4, 6));
  // Overlapping pauses count once.
  EXPECT_EQ(*cal.PeriodEnd(D(2026, 3, 2), 30, DayBasis::kCalendarDays,
                           {{D(2026, 3, 10), D(2026, 3, 14)}, {D(2026, 3, 12), D(2026, 3, 14)}}),
            D(2026, 4, 6));
  // Working basis: a pause across the new year block only moves the due date
  // by the working days inside it (there are none from 14 to 22 Feb).
  const D event(2026, 2, 10);
  const auto plain = cal.PeriodEnd(event, 10, DayBasis::kWorkingDays);
  EXPECT_EQ(*cal.PeriodEnd(event, 10, DayBasis::kWorkingDays, {{D(2026, 2, 14), D(2026, 2, 22)}}), *plain);
  EXPECT_EQ(*cal.PeriodEnd(event, 10, DayBasis::kWorkingDays, {{D(2026, 2, 12), D(2026, 2, 23)}}),
            *cal.PeriodEnd(*plain, 3, DayBasis::kWorkingDays));
}

TEST(WorkingCalendar, OutsideTheCoveredYearsIsAnError) {
  const WorkingCalendar cal = Synthetic();
  auto beyond = cal.PeriodEnd(D(2026, 12, 20), 30, DayBasis::kCalendarDays);
  ASSERT_FALSE(beyond.ok());
  EXPECT_EQ(beyond.status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_NE(beyond.status().message().find("does not cover 2027"), std::string::npos) << beyond.status();
  EXPECT_EQ(cal.IsWorkingDay(D(2025, 6, 2)).status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(cal.PeriodEnd(D(2026, 3, 2), 0, DayBasis::kCalendarDays).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(WorkingCalendar, WorkingDaysBetween) {
  const WorkingCalendar cal = Synthetic();
  EXPECT_EQ(*cal.WorkingDaysBetween(D(2026, 2, 13), D(2026, 2, 23)), 1);  // only Mon 23
  EXPECT_EQ(*cal.WorkingDaysBetween(D(2026, 3, 6), D(2026, 3, 13)), 5);
  EXPECT_EQ(*cal.WorkingDaysBetween(D(2026, 3, 13), D(2026, 3, 6)), 0);
}

absl::Status Load(const std::string& yaml) {
  config::v1::WorkingCalendarFile proto;
  if (auto s = ParseYaml(yaml, "c.yaml", &proto); !s.ok()) return s;
  return WorkingCalendar::FromProto(proto, "c.yaml").status();
}

TEST(WorkingCalendar, RejectsInconsistentFiles) {
  EXPECT_NE(Load("name: x\nweekly_days_off: [saturday, sunday]\nyears:\n"
                 "  - {year: 2026, source: s, days_off: [{date: 2026-03-01, name: a Sunday}]}\n")
                .message().find("is already a weekly day off"),
            std::string::npos);
  EXPECT_NE(Load("name: x\nweekly_days_off: [saturday, sunday]\nyears:\n"
                 "  - {year: 2026, source: s, makeup_working_days: [{date: 2026-03-02, replaces: x}]}\n")
                .message().find("is already a working day"),
            std::string::npos);
  EXPECT_NE(Load("name: x\nweekly_days_off: [saturday, sunday]\nyears:\n"
                 "  - {year: 2026, source: s}\n  - {year: 2026, source: s}\n")
                .message().find("listed twice"),
            std::string::npos);
  EXPECT_NE(Load("name: x\nweekly_days_off: [saturday, sunday]\nyears:\n"
                 "  - {year: 2026, source: s, days_off: [{date: 2027-01-01, name: n}]}\n")
                .message().find("is not in 2026"),
            std::string::npos);
  EXPECT_NE(Load("name: x\nyears:\n  - {year: 2026, source: s}\n").message().find("weekly_days_off"),
            std::string::npos);
}

}  // namespace
}  // namespace reception
