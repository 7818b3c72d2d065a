#include "services/scheduling/schedule_rules.h"

#include "gtest/gtest.h"
#include "services/common/civil_date.h"
#include "services/common/test_support.h"

namespace reception::scheduling {
namespace {

class ScheduleRulesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto cal = WorkingCalendar::LoadFile(testing::SourcePath("deploy/calendars/vn-2025-2026.yaml"));
    ASSERT_TRUE(cal.ok()) << cal.status();
    calendar_ = std::make_unique<WorkingCalendar>(*std::move(cal));
    auto rules = RuleBook::LoadFile(testing::SourcePath("deploy/rules/vn.yaml"));
    ASSERT_TRUE(rules.ok()) << rules.status();
    rules_ = std::make_unique<RuleBook>(*std::move(rules));
  }
  static v1::ReceptionPlan Plan(std::vector<v1::PeriodicDay> days) {
    v1::ReceptionPlan p;
    p.set_opens("07:30");
    p.set_closes("17:00");
    for (auto& d : days) *p.add_periodic_days() = d;
    return p;
  }
  static v1::PeriodicDay Weekday(v1::Weekday w) {
    v1::PeriodicDay d;
    d.set_weekday(w);
    return d;
  }
  static v1::PeriodicDay DayOfMonth(int n) {
    v1::PeriodicDay d;
    d.set_day_of_month(n);
    return d;
  }
  std::vector<PlannedDay> Periodic(const v1::ReceptionPlan& plan, absl::CivilDay from,
                                   absl::CivilDay to) {
    auto days = PlannedDays(plan, *calendar_, from, to);
    EXPECT_TRUE(days.ok()) << days.status();
    std::vector<PlannedDay> out;
    for (const auto& d : *days) {
      if (d.kind == v1::DAY_KIND_PERIODIC) out.push_back(d);
    }
    return out;
  }
  std::unique_ptr<WorkingCalendar> calendar_;
  std::unique_ptr<RuleBook> rules_;
};

TEST_F(ScheduleRulesTest, PeriodicDaysOnADayOffMoveToTheNextWorkingDay) {
  // A commune chairman receiving every Monday in April-May 2026: Hùng Kings'
  // day in lieu (Mon 27 Apr) moves to Tue 28 Apr.
  auto mondays = Periodic(Plan({Weekday(v1::WEEKDAY_MONDAY)}), absl::CivilDay(2026, 4, 1),
                          absl::CivilDay(2026, 5, 10));
  ASSERT_EQ(mondays.size(), 5u);  // 6, 13, 20, 28 (moved), 4 May
  EXPECT_EQ(mondays[3].day, absl::CivilDay(2026, 4, 28));
  ASSERT_TRUE(mondays[3].moved_from.has_value());
  EXPECT_EQ(*mondays[3].moved_from, absl::CivilDay(2026, 4, 27));
  EXPECT_EQ(mondays[4].day, absl::CivilDay(2026, 5, 4));
  EXPECT_FALSE(mondays[4].moved_from.has_value());
  // The 30th of each month: 30 Apr (holiday) and 1 May (holiday) and the
  // weekend: Monday 4 May. February has no 30th: its last day (Sat 28 Feb
  // 2026) -> Monday 2 March.
  auto thirtieth =
      Periodic(Plan({DayOfMonth(30)}), absl::CivilDay(2026, 2, 1), absl::CivilDay(2026, 6, 5));
  ASSERT_EQ(thirtieth.size(), 4u);
  EXPECT_EQ(thirtieth[0].day, absl::CivilDay(2026, 3, 2));
  EXPECT_EQ(*thirtieth[0].moved_from, absl::CivilDay(2026, 2, 28));
  EXPECT_EQ(thirtieth[1].day, absl::CivilDay(2026, 3, 30));
  EXPECT_EQ(thirtieth[2].day, absl::CivilDay(2026, 5, 4));
  EXPECT_EQ(thirtieth[3].day, absl::CivilDay(2026, 6, 1));  // Sat 30 May -> Mon 1 June
  // A day moved in from before the range is listed; Tết 2026 (16-20 Feb)
  // pushes the 16th to Monday 23 Feb.
  auto sixteenth =
      Periodic(Plan({DayOfMonth(16)}), absl::CivilDay(2026, 2, 20), absl::CivilDay(2026, 2, 28));
  ASSERT_EQ(sixteenth.size(), 1u);
  EXPECT_EQ(sixteenth[0].day, absl::CivilDay(2026, 2, 23));
  // Regular days are the working days (none in Tết week).
  auto all =
      PlannedDays(Plan({}), *calendar_, absl::CivilDay(2026, 2, 16), absl::CivilDay(2026, 2, 22));
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(all->empty());
  // Into 2027, not yet published: its statutory days (1 January off).
  auto next_year =
      PlannedDays(Plan({}), *calendar_, absl::CivilDay(2026, 12, 30), absl::CivilDay(2027, 1, 5));
  ASSERT_TRUE(next_year.ok()) << next_year.status();
  std::vector<absl::CivilDay> days;
  for (const auto& d : *next_year) days.push_back(d.day);
  EXPECT_EQ(days,
            (std::vector<absl::CivilDay>{absl::CivilDay(2026, 12, 30), absl::CivilDay(2026, 12, 31),
                                         absl::CivilDay(2027, 1, 4), absl::CivilDay(2027, 1, 5)}));
  // Before the first listed year: an error, never a guess.
  EXPECT_EQ(
      PlannedDays(Plan({}), *calendar_, absl::CivilDay(2024, 12, 30), absl::CivilDay(2025, 1, 5))
          .status()
          .code(),
      absl::StatusCode::kOutOfRange);
}

// The head of a state agency (a provincial department) receives citizens at
// least one day a month (Law on Citizen Reception Art 18), before and after
// the July 2026 amendments.
TEST_F(ScheduleRulesTest, AgencyHeadsReceiveMonthly) {
  const auto plan = Plan({DayOfMonth(10)});
  const auto planned = Periodic(plan, absl::CivilDay(2026, 5, 1), absl::CivilDay(2026, 8, 31));
  std::vector<HeldDay> held = {
      {absl::CivilDay(2026, 5, 11), "Giám đốc Sở Nguyễn C",
       v1::PRESIDING_ROLE_HEAD},  // 10 May: Sunday
      // June: missed.
      {absl::CivilDay(2026, 7, 10), "Phó Giám đốc Sở Đỗ D", v1::PRESIDING_ROLE_DEPUTY},
      {absl::CivilDay(2026, 8, 10), "cán bộ tiếp dân",
       v1::PRESIDING_ROLE_STAFF},  // not the head: a gap
  };
  auto report = Compliance("48-STNMT", type::v1::UNIT_LEVEL_AGENCY, absl::CivilDay(2026, 5, 1),
                           absl::CivilDay(2026, 8, 31), held, planned, *rules_);
  ASSERT_TRUE(report.ok()) << report.status();
  ASSERT_EQ(report->spans_size(), 4);
  EXPECT_NE(report->spans(0).rule().find("agency-monthly"), std::string::npos)
      << report->spans(0).rule();
  EXPECT_NE(report->spans(0).rule().find("Art 18"), std::string::npos) << report->spans(0).rule();
  EXPECT_FALSE(report->spans(0).gap());
  EXPECT_TRUE(report->spans(1).gap());
  ASSERT_EQ(report->spans(1).missed_planned_days_size(), 1);
  EXPECT_EQ(FormatDate(report->spans(1).missed_planned_days(0)), "2026-06-10");
  EXPECT_FALSE(report->spans(2).gap());
  EXPECT_TRUE(report->spans(3).gap());
  EXPECT_EQ(report->required(), 4);
  EXPECT_EQ(report->held(), 2);
  EXPECT_EQ(report->gaps(), 2);
}

TEST_F(ScheduleRulesTest, PlansAreValidated) {
  auto p = Plan({DayOfMonth(32)});
  EXPECT_NE(ValidatePlan(p).message().find("plan.periodic_days[0].day_of_month"),
            std::string::npos);
  p = Plan({v1::PeriodicDay()});
  EXPECT_NE(ValidatePlan(p).message().find("day_of_month or weekday"), std::string::npos);
  p = Plan({});
  p.set_closes("07:00");
  EXPECT_NE(ValidatePlan(p).message().find("plan.closes"), std::string::npos);
  p.set_opens("7h30");
  EXPECT_NE(ValidatePlan(p).message().find("HH:MM"), std::string::npos);
}

TEST_F(ScheduleRulesTest, ReportingQuartersAreCutOnTheFifteenth) {
  auto q1 = ReportRange(v1::REPORT_PERIOD_QUARTER, 2026, 1, *rules_);
  ASSERT_TRUE(q1.ok()) << q1.status();
  EXPECT_EQ(q1->first, absl::CivilDay(2025, 12, 15));
  EXPECT_EQ(q1->second, absl::CivilDay(2026, 3, 14));
  auto q3 = ReportRange(v1::REPORT_PERIOD_QUARTER, 2026, 3, *rules_);
  EXPECT_EQ(q3->first, absl::CivilDay(2026, 6, 15));
  EXPECT_EQ(q3->second, absl::CivilDay(2026, 9, 14));
  auto feb = ReportRange(v1::REPORT_PERIOD_MONTH, 2026, 2, *rules_);
  EXPECT_EQ(feb->second, absl::CivilDay(2026, 2, 28));
  EXPECT_EQ(ReportRange(v1::REPORT_PERIOD_QUARTER, 2026, 5, *rules_).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(ScheduleRulesTest, ComplianceJudgesEachWeekOrMonthUnderTheRuleInForce) {
  // A commune, April 2026: weekly until 2026-06-30. Weeks ending in April:
  // 30 Mar-5 Apr, 6-12, 13-19, 20-26 (27 Apr-3 May ends in May: judged
  // there). The month is not judged: the rule counts weeks.
  const auto plan = Plan({Weekday(v1::WEEKDAY_MONDAY)});
  const auto planned = Periodic(plan, absl::CivilDay(2026, 3, 30), absl::CivilDay(2026, 4, 30));
  std::vector<HeldDay> held = {
      {absl::CivilDay(2026, 3, 30), "Chủ tịch Lê Văn A", v1::PRESIDING_ROLE_HEAD},
      {absl::CivilDay(2026, 4, 6), "Phó Chủ tịch Trần B", v1::PRESIDING_ROLE_DEPUTY},
      // 13-19 April: missed.
      {absl::CivilDay(2026, 4, 20), "Chủ tịch Lê Văn A", v1::PRESIDING_ROLE_HEAD},
      {absl::CivilDay(2026, 4, 21), "cán bộ tiếp dân", v1::PRESIDING_ROLE_STAFF},  // not periodic
  };
  auto report = Compliance("48-29", type::v1::UNIT_LEVEL_COMMUNE, absl::CivilDay(2026, 4, 1),
                           absl::CivilDay(2026, 4, 30), held, planned, *rules_);
  ASSERT_TRUE(report.ok()) << report.status();
  ASSERT_EQ(report->spans_size(), 4);
  EXPECT_EQ(FormatDate(report->spans(0).from()), "2026-03-30");
  EXPECT_EQ(report->spans(0).held(), 1);
  EXPECT_FALSE(report->spans(0).gap());
  EXPECT_TRUE(report->spans(2).gap());
  ASSERT_EQ(report->spans(2).missed_planned_days_size(), 1);
  EXPECT_EQ(FormatDate(report->spans(2).missed_planned_days(0)), "2026-04-13");
  EXPECT_EQ(report->required(), 4);
  EXPECT_EQ(report->held(), 3);
  EXPECT_EQ(report->gaps(), 1);
  EXPECT_EQ(report->presided_by_head(), 2);
  EXPECT_EQ(report->presided_by_deputy(), 1);
  EXPECT_NE(report->spans(1).presided(0).find("Phó Chủ tịch Trần B (deputy)"), std::string::npos);
  EXPECT_NE(report->spans(0).rule().find("commune-weekly"), std::string::npos);

  // The reporting quarter across 1 July 2026: weeks until the change, then
  // months of two days.
  auto q3 = ReportRange(v1::REPORT_PERIOD_QUARTER, 2026, 3, *rules_);
  std::vector<HeldDay> summer;
  for (absl::CivilDay d(2026, 6, 15); d <= absl::CivilDay(2026, 9, 14); d += 7)
    summer.push_back({d, "A", v1::PRESIDING_ROLE_HEAD});
  auto across =
      Compliance("48-29", type::v1::UNIT_LEVEL_COMMUNE, q3->first, q3->second, summer, {}, *rules_);
  ASSERT_TRUE(across.ok());
  int weeks = 0, months = 0;
  for (const auto& s : across->spans())
    (s.rule().find("week") != std::string::npos ? weeks : months)++;
  // 15-21 and 22-28 June; the week of 29 June - 5 July ends under the
  // twice-monthly rule, so no weekly duty is judged on it.
  EXPECT_EQ(weeks, 2);
  EXPECT_EQ(months, 2);  // July, August (September ends in Q4)
  EXPECT_EQ(across->gaps(), 0);
  // A district after 1 July 2026: the level is abolished, no rule to judge.
  auto district = Compliance("502", type::v1::UNIT_LEVEL_DISTRICT, absl::CivilDay(2026, 8, 1),
                             absl::CivilDay(2026, 8, 31), {}, {}, *rules_);
  EXPECT_EQ(district->spans_size(), 0);
}

// Tết 2026 (16-20 February off): the week of 16-22 February has no working
// day, so nothing is required of it and it is no gap; the report says why.
TEST_F(ScheduleRulesTest, AWeekWithNoWorkingDayCannotBeMissed) {
  std::vector<HeldDay> held = {{absl::CivilDay(2026, 2, 9), "A", v1::PRESIDING_ROLE_HEAD},
                               {absl::CivilDay(2026, 2, 23), "A", v1::PRESIDING_ROLE_HEAD}};
  auto report = Compliance("48-29", type::v1::UNIT_LEVEL_COMMUNE, absl::CivilDay(2026, 2, 9),
                           absl::CivilDay(2026, 3, 1), held, {}, *rules_, calendar_.get());
  ASSERT_TRUE(report.ok()) << report.status();
  ASSERT_EQ(report->spans_size(), 3);  // 9-15, 16-22 February, 23 February - 1 March
  const auto& tet = report->spans(1);
  EXPECT_EQ(FormatDate(tet.from()), "2026-02-16");
  EXPECT_EQ(tet.required(), 0);
  EXPECT_FALSE(tet.gap());
  EXPECT_NE(tet.note().find("only 0 working day(s)"), std::string::npos) << tet.note();
  EXPECT_EQ(report->gaps(), 0);
  EXPECT_EQ(report->required(), 2);
  // Without the calendar the rule alone would have called it a gap.
  auto blind = Compliance("48-29", type::v1::UNIT_LEVEL_COMMUNE, absl::CivilDay(2026, 2, 9),
                          absl::CivilDay(2026, 3, 1), held, {}, *rules_);
  EXPECT_TRUE(blind->spans(1).gap());
}

// 1 July 2026, weekly -> twice a month: a day held on 2 July counts once,
// for July; the week of 29 June - 5 July, ending under the new rule, is not
// judged under the old one.
TEST_F(ScheduleRulesTest, ADayHeldOnTheSecondOfJulyCountsOnce) {
  std::vector<HeldDay> held = {{absl::CivilDay(2026, 6, 22), "A", v1::PRESIDING_ROLE_HEAD},
                               {absl::CivilDay(2026, 7, 2), "A", v1::PRESIDING_ROLE_HEAD},
                               {absl::CivilDay(2026, 7, 16), "B", v1::PRESIDING_ROLE_DEPUTY}};
  auto report = Compliance("48-29", type::v1::UNIT_LEVEL_COMMUNE, absl::CivilDay(2026, 6, 22),
                           absl::CivilDay(2026, 7, 31), held, {}, *rules_, calendar_.get());
  ASSERT_TRUE(report.ok()) << report.status();
  ASSERT_EQ(report->spans_size(), 2);
  EXPECT_EQ(FormatDate(report->spans(0).to()), "2026-06-28");
  const auto& july = report->spans(1);
  EXPECT_EQ(FormatDate(july.from()), "2026-07-01");
  EXPECT_NE(july.rule().find("commune-twice-monthly"), std::string::npos);
  EXPECT_EQ(july.held(), 2);
  EXPECT_FALSE(july.gap());
  int counted = 0;
  for (const auto& sp : report->spans()) {
    for (const auto& p : sp.presided()) counted += p.find("2026-07-02") != std::string::npos;
  }
  EXPECT_EQ(counted, 1);
  EXPECT_EQ(report->held(), 3);
}

TEST_F(ScheduleRulesTest, ConflictsNameWhatIsInTheWay) {
  v1::Session s;
  *s.mutable_date() = ToProtoDate(absl::CivilDay(2026, 9, 2));
  s.set_start("08:00");
  s.set_end("10:00");
  s.set_presiding("chairman.son");
  s.add_bridges()->set_unit("48-29");
  const auto plan = Plan({});
  auto conflict = CheckConflicts(s, plan, *calendar_, {});
  EXPECT_EQ(conflict.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(conflict.message().find("2026-09-02 is a day off"), std::string::npos) << conflict;
  *s.mutable_date() = ToProtoDate(absl::CivilDay(2026, 9, 3));
  s.set_start("06:30");
  EXPECT_NE(
      CheckConflicts(s, plan, *calendar_, {}).message().find("outside working hours 07:30-17:00"),
      std::string::npos);
  s.set_start("08:00");
  std::vector<Booking> booked = {
      {"sessions/48-20260903-1", absl::CivilDay(2026, 9, 3), 9 * 60, 11 * 60, "chairman.son", {}}};
  EXPECT_NE(
      CheckConflicts(s, plan, *calendar_, booked).message().find("presiding official chairman.son"),
      std::string::npos);
  booked[0].presiding = "vice.chairman";
  booked[0].bridges = {"48-29"};
  EXPECT_NE(CheckConflicts(s, plan, *calendar_, booked)
                .message()
                .find("bridge 48-29 is already in sessions/48-20260903-1"),
            std::string::npos);
  // Back to back is fine; the session being moved does not conflict with itself.
  EXPECT_TRUE(CheckConflicts(s, plan, *calendar_, booked, "sessions/48-20260903-1").ok());
  booked[0].start = 10 * 60;
  EXPECT_TRUE(CheckConflicts(s, plan, *calendar_, booked).ok());
}

}  // namespace
}  // namespace reception::scheduling
