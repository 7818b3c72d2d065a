#include "services/calendar/working_calendar.h"

#include <set>

#include "gtest/gtest.h"
#include "services/calendar/lunar_calendar.h"
#include "services/common/civil_date.h"
#include "services/common/test_support.h"
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
)",
                     "synthetic.yaml", &proto);
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
      {"1 working day after a Friday is Monday", D(2026, 3, 6), 1, DayBasis::kWorkingDays,
       D(2026, 3, 9)},
      {"1 calendar day after a Monday is Tuesday", D(2026, 3, 9), 1, DayBasis::kCalendarDays,
       D(2026, 3, 10)},
      // A calendar-day period whose last day is off ends on the next working day.
      {"last day a Sunday moves to Monday", D(2026, 3, 12), 10, DayBasis::kCalendarDays,
       D(2026, 3, 23)},
      {"last day a holiday (30 Apr) moves past 1 May and the weekend", D(2026, 4, 20), 10,
       DayBasis::kCalendarDays, D(2026, 5, 4)},
      {"calendar period across the new year block ends inside it, so after it", D(2026, 2, 5), 10,
       DayBasis::kCalendarDays, D(2026, 2, 23)},
      {"calendar period crossing the block counts its days", D(2026, 2, 10), 30,
       DayBasis::kCalendarDays, D(2026, 3, 12)},
      // Working-day periods skip weekends and holidays...
      {"7 working days across the new year block", D(2026, 2, 12), 7, DayBasis::kWorkingDays,
       D(2026, 3, 2)},
      {"5 working days around 30 Apr / 1 May", D(2026, 4, 28), 5, DayBasis::kWorkingDays,
       D(2026, 5, 7)},
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
  EXPECT_EQ(*cal.PeriodEnd(D(2026, 3, 2), 30, DayBasis::kCalendarDays,
                           {{D(2026, 3, 10), D(2026, 3, 14)}}),
            D(2026, 4, 6));
  // Overlapping pauses count once.
  EXPECT_EQ(*cal.PeriodEnd(D(2026, 3, 2), 30, DayBasis::kCalendarDays,
                           {{D(2026, 3, 10), D(2026, 3, 14)}, {D(2026, 3, 12), D(2026, 3, 14)}}),
            D(2026, 4, 6));
  // Working basis: a pause across the new year block only moves the due date
  // by the working days inside it (there are none from 14 to 22 Feb).
  const D event(2026, 2, 10);
  const auto plain = cal.PeriodEnd(event, 10, DayBasis::kWorkingDays);
  EXPECT_EQ(*cal.PeriodEnd(event, 10, DayBasis::kWorkingDays, {{D(2026, 2, 14), D(2026, 2, 22)}}),
            *plain);
  EXPECT_EQ(*cal.PeriodEnd(event, 10, DayBasis::kWorkingDays, {{D(2026, 2, 12), D(2026, 2, 23)}}),
            *cal.PeriodEnd(*plain, 3, DayBasis::kWorkingDays));
}

TEST(WorkingCalendar, OutsideTheCoveredYearsIsAnError) {
  const WorkingCalendar cal = Synthetic();
  auto beyond = cal.PeriodEnd(D(2026, 12, 20), 30, DayBasis::kCalendarDays);
  ASSERT_FALSE(beyond.ok());
  EXPECT_EQ(beyond.status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_NE(beyond.status().message().find("does not cover 2027"), std::string::npos)
      << beyond.status();
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
                .message()
                .find("is already a weekly day off"),
            std::string::npos);
  EXPECT_NE(
      Load("name: x\nweekly_days_off: [saturday, sunday]\nyears:\n"
           "  - {year: 2026, source: s, makeup_working_days: [{date: 2026-03-02, replaces: x}]}\n")
          .message()
          .find("is already a working day"),
      std::string::npos);
  EXPECT_NE(Load("name: x\nweekly_days_off: [saturday, sunday]\nyears:\n"
                 "  - {year: 2026, source: s}\n  - {year: 2026, source: s}\n")
                .message()
                .find("listed twice"),
            std::string::npos);
  EXPECT_NE(Load("name: x\nweekly_days_off: [saturday, sunday]\nyears:\n"
                 "  - {year: 2026, source: s, days_off: [{date: 2027-01-01, name: n}]}\n")
                .message()
                .find("is not in 2026"),
            std::string::npos);
  EXPECT_NE(
      Load("name: x\nyears:\n  - {year: 2026, source: s}\n").message().find("weekly_days_off"),
      std::string::npos);
}

// The shipped calendar: 2025 and 2026 as published, 2027 provisional, later
// years derived from the Labour Code.
config::v1::WorkingCalendarFile ShippedProto() {
  config::v1::WorkingCalendarFile proto;
  auto s = LoadYamlFile(testing::SourcePath("deploy/calendars/vn-2025-2026.yaml"), &proto);
  EXPECT_TRUE(s.ok()) << s;
  return proto;
}

std::set<D> DaysOff(const config::v1::CalendarYear& y) {
  std::set<D> out;
  for (const auto& d : y.days_off())
    out.insert(D(d.date().year(), d.date().month(), d.date().day()));
  return out;
}

const config::v1::CalendarYear* Listed(const config::v1::WorkingCalendarFile& f, int year) {
  for (const auto& y : f.years()) {
    if (y.year() == year) return &y;
  }
  return nullptr;
}

// The statute against what the Government published for 2025 and 2026: the
// fixed holidays and Hùng Kings' day agree; the published years add swapped
// days (with make-up Saturdays), and the Prime Minister placed 2025's five
// Tết days one day earlier than the usual pattern the rule takes.
TEST(WorkingCalendar, StatutoryDaysAgainstThePublished2025And2026) {
  const auto proto = ShippedProto();
  auto cal = WorkingCalendar::FromProto(proto, "shipped");
  ASSERT_TRUE(cal.ok()) << cal.status();

  auto d2026 = cal->DeriveYear(2026);
  ASSERT_TRUE(d2026.ok()) << d2026.status();
  EXPECT_TRUE(d2026->provisional());
  std::set<D> published2026 = DaysOff(*Listed(proto, 2026));
  published2026.erase(D(2026, 1, 2));  // swapped with Saturday 10 January: not statutory
  EXPECT_EQ(DaysOff(*d2026), published2026);

  auto d2025 = cal->DeriveYear(2025);
  ASSERT_TRUE(d2025.ok()) << d2025.status();
  const std::set<D> published2025 = DaysOff(*Listed(proto, 2025));
  const std::set<D> derived2025 = DaysOff(*d2025);
  for (D fixed : {D(2025, 1, 1), D(2025, 4, 7), D(2025, 4, 30), D(2025, 5, 1), D(2025, 9, 1),
                  D(2025, 9, 2)}) {
    EXPECT_TRUE(derived2025.contains(fixed)) << FormatDate(fixed);
    EXPECT_TRUE(published2025.contains(fixed)) << FormatDate(fixed);
  }
  // Tết Ất Tỵ (mùng 1 on Wednesday 29 January): five weekdays off either way,
  // mùng 1-3 among them. Published: 27-31 January. Derived: 28 January - Sat
  // 1 February, the Saturday given back on Monday 3 February.
  auto tet = [](const std::set<D>& days) {
    std::set<D> out;
    for (D d : days) {
      if (d >= D(2025, 1, 20) && d <= D(2025, 2, 10)) out.insert(d);
    }
    return out;
  };
  EXPECT_EQ(tet(published2025), (std::set<D>{D(2025, 1, 27), D(2025, 1, 28), D(2025, 1, 29),
                                             D(2025, 1, 30), D(2025, 1, 31)}));
  EXPECT_EQ(tet(derived2025), (std::set<D>{D(2025, 1, 28), D(2025, 1, 29), D(2025, 1, 30),
                                           D(2025, 1, 31), D(2025, 2, 3)}));
}

TEST(WorkingCalendar, Shipped2027IsTheStatutoryDerivation) {
  auto proto = ShippedProto();
  const config::v1::CalendarYear* listed = Listed(proto, 2027);
  ASSERT_NE(listed, nullptr);
  EXPECT_TRUE(listed->provisional());
  auto cal = WorkingCalendar::FromProto(proto, "shipped");
  ASSERT_TRUE(cal.ok()) << cal.status();
  auto derived = cal->DeriveYear(2027);
  ASSERT_TRUE(derived.ok()) << derived.status();
  EXPECT_EQ(DaysOff(*listed), DaysOff(*derived));
  EXPECT_TRUE(cal->IsProvisional(2027));
  EXPECT_FALSE(cal->IsProvisional(2026));
  EXPECT_EQ(cal->PublishedUntil(), D(2026, 12, 31));
  EXPECT_EQ(cal->CoveredUntil(), D(LunarCalendar::kLastYear, 12, 31));
  // Tết Đinh Mùi: mùng 1 on Saturday 6 February.
  for (D off : {D(2027, 2, 5), D(2027, 2, 8), D(2027, 2, 9), D(2027, 2, 10), D(2027, 2, 11),
                D(2027, 4, 16), D(2027, 5, 3), D(2027, 9, 1), D(2027, 9, 2)}) {
    EXPECT_FALSE(*cal->IsWorkingDay(off)) << FormatDate(off);
  }
  EXPECT_TRUE(*cal->IsWorkingDay(D(2027, 2, 12)));
}

TEST(WorkingCalendar, YearsAfterTheLastListedAreDerivedAndProvisional) {
  auto cal = WorkingCalendar::FromProto(ShippedProto(), "shipped");
  ASSERT_TRUE(cal.ok()) << cal.status();
  // 2028: mùng 1 Mậu Thân on Wednesday 26 January; the span's Saturday (29)
  // is given back on Monday 31 January. Hùng Kings' day Tuesday 4 April.
  for (D off : {D(2028, 1, 25), D(2028, 1, 26), D(2028, 1, 27), D(2028, 1, 28), D(2028, 1, 31),
                D(2028, 4, 4)}) {
    EXPECT_FALSE(*cal->IsWorkingDay(off)) << FormatDate(off);
  }
  EXPECT_TRUE(*cal->IsWorkingDay(D(2028, 2, 1)));
  // 2030: Vietnam's Tết (Saturday 2 February) is a day before China's.
  EXPECT_FALSE(*cal->IsWorkingDay(D(2030, 2, 1)));  // 30 tháng Chạp
  EXPECT_EQ(cal->ProvisionalYears(D(2026, 12, 1), D(2028, 3, 1)), (std::vector<int>{2027, 2028}));
  EXPECT_NE(cal->ProvisionalReason({2027, 2028}).find("2027-2028: Labour Code 2019"),
            std::string::npos)
      << cal->ProvisionalReason({2027, 2028});
  // A year before the first listed one is never guessed.
  EXPECT_EQ(cal->IsWorkingDay(D(2024, 6, 3)).status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_FALSE(cal->IsProvisional(2024));
}

TEST(WorkingCalendar, RejectsBadStatutoryRules) {
  const std::string head =
      "name: x\nweekly_days_off: [saturday, sunday]\nyears:\n  - {year: 2026, source: s}\n";
  EXPECT_NE(Load(head + "statutory_rules:\n  - {effective_from_year: 2021, holidays: [{name: a, "
                        "solar: {month: 1, day: 1}}]}\n")
                .message()
                .find("source must name the statute"),
            std::string::npos);
  EXPECT_NE(Load(head + "statutory_rules:\n  - {source: s, effective_from_year: 2021, holidays: "
                        "[{name: a, solar: {month: 1, day: 1}, lunar: {month: 1, day: 1}}]}\n")
                .message()
                .find("exactly one of solar and lunar"),
            std::string::npos);
  EXPECT_NE(Load(head + "statutory_rules:\n  - {source: s, effective_from_year: 2021, holidays: "
                        "[{name: a, lunar: {month: 13, day: 1}}]}\n")
                .message()
                .find("is not a day of the year"),
            std::string::npos);
  EXPECT_NE(
      Load(head + "statutory_rules:\n  - {source: s, effective_from_year: 2021, holidays: []}\n")
          .message()
          .find("holidays must not be empty"),
      std::string::npos);
  // 29 February is no day of 2027: the derivation names it at load.
  EXPECT_NE(Load(head + "statutory_rules:\n  - {source: s, effective_from_year: 2021, holidays: "
                        "[{name: leap, solar: {month: 2, day: 29}}]}\n")
                .message()
                .find("has no such day"),
            std::string::npos);
}

}  // namespace
}  // namespace reception
