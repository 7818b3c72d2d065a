// The deadline engine on the shipped data: deploy/calendars/vn-2025-2026.yaml
// and deploy/rules/vn.yaml. Dates were worked out by hand on a printed 2026
// calendar; each row says why.
#include "services/calendar/deadline_engine.h"

#include "gtest/gtest.h"
#include "services/common/civil_date.h"
#include "services/common/test_support.h"
#include "services/common/yaml_proto.h"

namespace reception {
namespace {

using cases::v1::CaseKind;
using cases::v1::Complexity;
using cases::v1::DeadlineClock;
using cases::v1::DeadlineStep;
using D = absl::CivilDay;

constexpr auto kComplaint = cases::v1::CASE_KIND_COMPLAINT;
constexpr auto kDenunciation = cases::v1::CASE_KIND_DENUNCIATION;
constexpr auto kPetition = cases::v1::CASE_KIND_PETITION;
constexpr auto kNormal = cases::v1::COMPLEXITY_NORMAL;
constexpr auto kComplex = cases::v1::COMPLEXITY_COMPLEX;
constexpr auto kVeryComplex = cases::v1::COMPLEXITY_VERY_COMPLEX;
constexpr auto kSettle = cases::v1::DEADLINE_STEP_SETTLE;
constexpr auto kAccept = cases::v1::DEADLINE_STEP_ACCEPT;
constexpr auto kHandle = cases::v1::DEADLINE_STEP_HANDLE_LETTER;
constexpr auto kTransfer = cases::v1::DEADLINE_STEP_TRANSFER;

class Shipped : public ::testing::Test {
 protected:
  void SetUp() override {
    auto cal = WorkingCalendar::LoadFile(testing::SourcePath("deploy/calendars/vn-2025-2026.yaml"));
    ASSERT_TRUE(cal.ok()) << cal.status();
    calendar_.emplace(*std::move(cal));
    auto rules = RuleBook::LoadFile(testing::SourcePath("deploy/rules/vn.yaml"));
    ASSERT_TRUE(rules.ok()) << rules.status();
    rules_.emplace(*std::move(rules));
    engine_.emplace(&*calendar_, &*rules_);
  }

  // The clock `trigger` starts for `step`.
  DeadlineClock Clock(ClockTrigger trigger, DeadlineStep step, const ClockFacts& facts, D event) {
    auto clocks = engine_->Start(trigger, facts, event);
    EXPECT_TRUE(clocks.ok()) << clocks.status();
    for (auto& c : *clocks) {
      if (c.step() == step) return c;
    }
    ADD_FAILURE() << "no " << StepName(step) << " clock";
    return {};
  }

  static D Due(const DeadlineClock& c) {
    EXPECT_TRUE(c.has_due_date()) << c.problem();
    return D(c.due_date().year(), c.due_date().month(), c.due_date().day());
  }

  std::optional<WorkingCalendar> calendar_;
  std::optional<RuleBook> rules_;
  std::optional<DeadlineEngine> engine_;
};

struct Row {
  const char* why;
  ClockTrigger trigger;
  DeadlineStep step;
  CaseKind kind;
  cases::v1::ComplaintRound round;
  bool remote;
  Complexity complexity;
  D event;
  D due;
  const char* rule;
};

TEST_F(Shipped, DueDatesFollowTheCivilCodeOnThePublishedCalendar) {
  constexpr auto R = ClockTrigger::kReceived;
  constexpr auto A = ClockTrigger::kAccepted;
  constexpr auto O = ClockTrigger::kOutsideCompetence;
  constexpr auto first = cases::v1::COMPLAINT_ROUND_FIRST;
  constexpr auto second = cases::v1::COMPLAINT_ROUND_SECOND;
  constexpr auto none = cases::v1::COMPLAINT_ROUND_UNSPECIFIED;
  const Row rows[] = {
      // Lunar New Year 2026: off Mon 16 - Fri 20 Feb, with both weekends.
      {"10 calendar days from Tue 10 Feb end Fri 20 Feb, inside Tết: Mon 23 Feb", R, kAccept,
       kComplaint, first, false, kNormal, D(2026, 2, 10), D(2026, 2, 23), "complaint-accept"},
      {"7 working days from Thu 12 Feb: 13 Feb, then 23-27 Feb, then Mon 2 Mar", R, kAccept,
       kDenunciation, none, false, kNormal, D(2026, 2, 12), D(2026, 3, 2), "denunciation-accept"},
      {"Tết 2025 (27-31 Jan) is skipped too: 10 working days from Fri 24 Jan 2025", R, kHandle,
       kPetition, none, false, kNormal, D(2025, 1, 24), D(2025, 2, 14), "letter-handle"},
      // Last day on a Sunday, and on a public holiday.
      {"30 days from Fri 6 Mar end Sun 5 Apr: Mon 6 Apr", A, kSettle, kComplaint, first, false,
       kNormal, D(2026, 3, 6), D(2026, 4, 6), "complaint-first-settle"},
      {"30 days from Tue 31 Mar end Thu 30 Apr (holiday), then 1 May and the weekend: Mon 4 May", A,
       kSettle, kComplaint, first, false, kNormal, D(2026, 3, 31), D(2026, 5, 4),
       "complaint-first-settle"},
      {"10 days from Fri 17 Apr end Mon 27 Apr (Hùng Kings' day in lieu): Tue 28 Apr", R, kAccept,
       kComplaint, first, false, kNormal, D(2026, 4, 17), D(2026, 4, 28), "complaint-accept"},
      {"National Day 2025: 10 days from Fri 22 Aug end Mon 1 Sep: Wed 3 Sep", R, kAccept,
       kComplaint, first, false, kNormal, D(2025, 8, 22), D(2025, 9, 3), "complaint-accept"},
      // Make-up Saturdays.
      {"5 working days from Wed 7 Jan 2026 count make-up Sat 10 Jan: Tue 13 Jan", O, kTransfer,
       kDenunciation, none, false, kNormal, D(2026, 1, 7), D(2026, 1, 13), "denunciation-transfer"},
      {"10 calendar days from 31 Dec 2025 end on make-up Sat 10 Jan, a working day", R, kAccept,
       kComplaint, first, false, kNormal, D(2025, 12, 31), D(2026, 1, 10), "complaint-accept"},
      {"make-up Sat 26 Apr 2025 counts; swapped Fri 2 May does not", R, kHandle, kPetition, none,
       false, kNormal, D(2025, 4, 24), D(2025, 5, 12), "letter-handle"},
      // Working-day vs calendar-day steps from the same receipt (Mon 2 Mar).
      {"letter handling: 10 working days", R, kHandle, kComplaint, first, false, kNormal,
       D(2026, 3, 2), D(2026, 3, 16), "letter-handle"},
      {"complaint acceptance: 10 calendar days", R, kAccept, kComplaint, first, false, kNormal,
       D(2026, 3, 2), D(2026, 3, 12), "complaint-accept"},
      // Remote and complex variants (accepted Mon 2 Mar 2026).
      {"first complaint: 30 days", A, kSettle, kComplaint, first, false, kNormal, D(2026, 3, 2),
       D(2026, 4, 1), "complaint-first-settle"},
      {"first complaint, complex: 45 days (Thu 16 Apr)", A, kSettle, kComplaint, first, false,
       kComplex, D(2026, 3, 2), D(2026, 4, 16), "complaint-first-settle"},
      {"first complaint, very complex counts as complex", A, kSettle, kComplaint, first, false,
       kVeryComplex, D(2026, 3, 2), D(2026, 4, 16), "complaint-first-settle"},
      {"first complaint, remote: 45 days", A, kSettle, kComplaint, first, true, kNormal,
       D(2026, 3, 2), D(2026, 4, 16), "complaint-first-settle"},
      {"first complaint, remote and complex: 60 days (Fri 1 May, holiday): Mon 4 May", A, kSettle,
       kComplaint, first, true, kComplex, D(2026, 3, 2), D(2026, 5, 4), "complaint-first-settle"},
      {"second complaint: 45 days", A, kSettle, kComplaint, second, false, kNormal, D(2026, 3, 2),
       D(2026, 4, 16), "complaint-second-settle"},
      {"second complaint, remote and complex: 70 days (Mon 11 May)", A, kSettle, kComplaint, second,
       true, kComplex, D(2026, 3, 2), D(2026, 5, 11), "complaint-second-settle"},
      {"denunciation: 30 days whatever the complexity", A, kSettle, kDenunciation, none, true,
       kVeryComplex, D(2026, 3, 2), D(2026, 4, 1), "denunciation-settle"},
  };
  for (const Row& r : rows) {
    SCOPED_TRACE(r.why);
    const DeadlineClock c =
        Clock(r.trigger, r.step, {r.kind, r.round, r.remote, r.complexity}, r.event);
    EXPECT_EQ(Due(c), r.due) << "got " << FormatDate(c.due_date());
    EXPECT_EQ(c.rule_id(), r.rule);
    EXPECT_EQ(c.state(), cases::v1::CLOCK_STATE_RUNNING);
    EXPECT_FALSE(c.source().empty());
  }
}

TEST_F(Shipped, TriggersStartOnlyTheStepsWithARuleForTheKind) {
  auto received = engine_->Start(ClockTrigger::kReceived, {kPetition}, D(2026, 3, 2));
  ASSERT_TRUE(received.ok());
  ASSERT_EQ(received->size(), 1u);  // petitions: letter handling only
  EXPECT_EQ((*received)[0].step(), kHandle);
  auto outside = engine_->Start(ClockTrigger::kOutsideCompetence, {kComplaint}, D(2026, 3, 2));
  ASSERT_TRUE(outside.ok());
  EXPECT_TRUE(outside->empty());  // complaints outside competence are guided, no transfer limit
}

TEST_F(Shipped, SuspensionAcrossAHolidayMovesTheDueDateByThePausedDays) {
  const ClockFacts facts{kComplaint, cases::v1::COMPLAINT_ROUND_FIRST, false, kNormal};
  DeadlineClock c = Clock(ClockTrigger::kAccepted, kSettle, facts, D(2026, 4, 1));
  EXPECT_EQ(Due(c), D(2026, 5, 4));  // 1 May, a holiday, then the weekend
  engine_->Pause(c, D(2026, 4, 20), facts);
  EXPECT_EQ(c.state(), cases::v1::CLOCK_STATE_PAUSED);
  EXPECT_FALSE(c.has_due_date());
  engine_->Resume(c, D(2026, 5, 4), facts);  // paused 20 Apr - 3 May: 14 days
  EXPECT_EQ(c.state(), cases::v1::CLOCK_STATE_RUNNING);
  ASSERT_EQ(c.pauses_size(), 1);
  EXPECT_EQ(FormatDate(c.pauses(0).end_date()), "2026-05-03");
  // 18 days counted 2-19 Apr; the other 12 from 4 May: Fri 15 May.
  EXPECT_EQ(Due(c), D(2026, 5, 15));
  // A working-day step only loses the working days of the pause: none of the
  // Tết block's days were working days anyway.
  const ClockFacts den{kDenunciation};
  DeadlineClock a = Clock(ClockTrigger::kReceived, kAccept, den, D(2026, 2, 12));
  engine_->Pause(a, D(2026, 2, 14), den);
  engine_->Resume(a, D(2026, 2, 23), den);
  EXPECT_EQ(Due(a), D(2026, 3, 2));
  // Resumed the day it stopped: nothing paused.
  DeadlineClock b = Clock(ClockTrigger::kAccepted, kSettle, facts, D(2026, 4, 1));
  engine_->Pause(b, D(2026, 4, 10), facts);
  engine_->Resume(b, D(2026, 4, 10), facts);
  EXPECT_EQ(b.pauses_size(), 0);
  EXPECT_EQ(Due(b), D(2026, 5, 4));
}

TEST_F(Shipped, ExtensionsWithinTheAllowedCountThenRefused) {
  const ClockFacts very{kDenunciation, cases::v1::COMPLAINT_ROUND_UNSPECIFIED, false, kVeryComplex};
  DeadlineClock c = Clock(ClockTrigger::kAccepted, kSettle, very, D(2026, 3, 2));
  EXPECT_EQ(c.max_extensions(), 2);
  EXPECT_EQ(c.max_extension_days(), 30);
  ASSERT_TRUE(engine_->Extend(c, very, "QĐ-01", D(2026, 3, 25), 30).ok());
  EXPECT_EQ(Due(c), D(2026, 5, 4));  // 60 days: Fri 1 May, a holiday
  ASSERT_TRUE(engine_->Extend(c, very, "QĐ-02", D(2026, 4, 28), 30).ok());
  EXPECT_EQ(Due(c), D(2026, 6, 1));  // 90 days: Sun 31 May
  auto third = engine_->Extend(c, very, "QĐ-03", D(2026, 5, 20), 10);
  EXPECT_EQ(third.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(third.message().find("at most 2 extension(s) for a very_complex case"),
            std::string::npos)
      << third.message();
  EXPECT_NE(third.message().find("QĐ-01"), std::string::npos);
  EXPECT_EQ(c.extensions_size(), 2);

  const ClockFacts complex{kDenunciation, cases::v1::COMPLAINT_ROUND_UNSPECIFIED, false, kComplex};
  DeadlineClock k = Clock(ClockTrigger::kAccepted, kSettle, complex, D(2026, 3, 2));
  ASSERT_TRUE(engine_->Extend(k, complex, "QĐ-1", D(2026, 3, 20), 20).ok());
  EXPECT_EQ(engine_->Extend(k, complex, "QĐ-2", D(2026, 3, 21), 5).code(),
            absl::StatusCode::kFailedPrecondition);

  const ClockFacts normal{kDenunciation};
  DeadlineClock n = Clock(ClockTrigger::kAccepted, kSettle, normal, D(2026, 3, 2));
  auto none = engine_->Extend(n, normal, "QĐ-1", D(2026, 3, 20), 5);
  EXPECT_EQ(none.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(none.message().find("allows no extension for a normal case"), std::string::npos);

  // Too long, and too late.
  DeadlineClock m = Clock(ClockTrigger::kAccepted, kSettle, very, D(2026, 3, 2));
  auto long_one = engine_->Extend(m, very, "QĐ-1", D(2026, 3, 20), 31);
  EXPECT_EQ(long_one.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(long_one.message().find("days must be at most 30"), std::string::npos);
  EXPECT_EQ(engine_->Extend(m, very, "QĐ-1", D(2026, 4, 2), 10).code(),
            absl::StatusCode::kFailedPrecondition);  // due 1 Apr has passed
  // The acceptance check of a denunciation: 7 working days, once up to 3 more.
  DeadlineClock a = Clock(ClockTrigger::kReceived, kAccept, normal, D(2026, 3, 2));
  EXPECT_EQ(Due(a), D(2026, 3, 11));
  ASSERT_TRUE(engine_->Extend(a, normal, "CV-1", D(2026, 3, 10), 3).ok());
  EXPECT_EQ(Due(a), D(2026, 3, 16));
}

TEST_F(Shipped, EndingAClockJudgesItAgainstTheDueDate) {
  const ClockFacts facts{kComplaint, cases::v1::COMPLAINT_ROUND_FIRST};
  DeadlineClock met = Clock(ClockTrigger::kReceived, kAccept, facts, D(2026, 3, 2));
  DeadlineEngine::End(met, DeadlineEngine::EndFor(kAccept, "AcceptCase"), D(2026, 3, 12));
  EXPECT_EQ(met.state(), cases::v1::CLOCK_STATE_MET);
  DeadlineClock missed = Clock(ClockTrigger::kReceived, kAccept, facts, D(2026, 3, 2));
  DeadlineEngine::End(missed, DeadlineEngine::EndFor(kAccept, "RefuseCase"), D(2026, 3, 13));
  EXPECT_EQ(missed.state(), cases::v1::CLOCK_STATE_MISSED);
  DeadlineClock gone = Clock(ClockTrigger::kReceived, kAccept, facts, D(2026, 3, 2));
  DeadlineEngine::End(gone, DeadlineEngine::EndFor(kAccept, "GuideCase"), D(2026, 3, 5));
  EXPECT_EQ(gone.state(), cases::v1::CLOCK_STATE_CANCELLED);
  EXPECT_EQ(DeadlineEngine::EndFor(kSettle, "StartCaseVerification"), ClockEnd::kNone);
  EXPECT_EQ(DeadlineEngine::EndFor(kSettle, "WithdrawCase"), ClockEnd::kCancelled);
  // A withdrawal during a pause closes the pause the day before.
  DeadlineClock paused = Clock(ClockTrigger::kAccepted, kSettle, facts, D(2026, 3, 2));
  engine_->Pause(paused, D(2026, 3, 10), facts);
  DeadlineEngine::End(paused, ClockEnd::kCancelled, D(2026, 3, 20));
  EXPECT_EQ(FormatDate(paused.pauses(0).end_date()), "2026-03-19");
}

TEST_F(Shipped, ReclassificationRecomputesWithTheRecordedPack) {
  const ClockFacts normal{kComplaint, cases::v1::COMPLAINT_ROUND_FIRST};
  DeadlineClock c = Clock(ClockTrigger::kAccepted, kSettle, normal, D(2026, 3, 2));
  EXPECT_EQ(c.rule_pack(), "vn-2020-12");
  ClockFacts complex = normal;
  complex.complexity = kComplex;
  complex.remote_area = true;
  engine_->Recompute(c, complex);
  EXPECT_EQ(c.length_days(), 60);
  EXPECT_TRUE(c.remote_area());
  EXPECT_EQ(Due(c), D(2026, 5, 4));
  EXPECT_EQ(c.rule_pack(), "vn-2020-12");
}

// 2027 is not published yet (2026-11-28): its statutory days are used and
// every date counted through it says so.
TEST_F(Shipped, DatesInAYearNotYetPublishedAreProvisional) {
  const ClockFacts facts{kComplaint, cases::v1::COMPLAINT_ROUND_FIRST};
  // Accepted 10 Dec 2026: day 30 is Saturday 9 January 2027, so the period
  // ends on Monday 11 January.
  DeadlineClock c = Clock(ClockTrigger::kAccepted, kSettle, facts, D(2026, 12, 10));
  EXPECT_EQ(Due(c), D(2027, 1, 11));
  EXPECT_TRUE(c.problem().empty()) << c.problem();
  engine_->MarkProvisional(c);
  ASSERT_EQ(c.provisional().years_size(), 1);
  EXPECT_EQ(c.provisional().years(0), 2027);
  EXPECT_NE(c.provisional().reason().find("Labour Code 2019"), std::string::npos)
      << c.provisional().reason();
  // Received Friday 29 January 2027: ten working days skip Tết Đinh Mùi (Fri
  // 5 Feb, Mon 8 - Thu 11 Feb with the weekend's two days in lieu).
  const ClockFacts letter{kPetition};
  EXPECT_EQ(Due(Clock(ClockTrigger::kReceived, kHandle, letter, D(2027, 1, 29))), D(2027, 2, 19));
  // A period inside 2026 is not provisional.
  DeadlineClock inside = Clock(ClockTrigger::kAccepted, kSettle, facts, D(2026, 3, 2));
  engine_->MarkProvisional(inside);
  EXPECT_FALSE(inside.has_provisional());
  // An ended clock is judged, not provisional any more.
  DeadlineEngine::End(c, ClockEnd::kDone, D(2027, 1, 5));
  engine_->MarkProvisional(c);
  EXPECT_FALSE(c.has_provisional());

  auto preview = engine_->Preview(facts, D(2026, 12, 10), D(2026, 12, 10));
  ASSERT_TRUE(preview.ok()) << preview.status();
  for (const auto& p : preview->deadlines()) {
    EXPECT_TRUE(p.problem().empty()) << p.problem();
    EXPECT_TRUE(p.has_due_date()) << StepName(p.step());
  }
  const auto& settle = preview->deadlines(preview->deadlines_size() - 1);
  EXPECT_EQ(settle.step(), kSettle);
  EXPECT_EQ(settle.provisional().years_size(), 1);
  EXPECT_NE(settle.explanation().find("provisional"), std::string::npos) << settle.explanation();
}

TEST_F(Shipped, EachPreviewStepCarriesItsOwnProblem) {
  const ClockFacts facts{kComplaint, cases::v1::COMPLAINT_ROUND_FIRST};
  // 2024 comes before the first published year and is never derived. Letter
  // handling (10 working days) and acceptance (10 calendar days, ending 12
  // December 2024) cannot be counted and say why; the request still succeeds
  // and settlement, whose last day falls in 2025, is counted.
  auto before = engine_->Preview(facts, D(2024, 12, 2), std::nullopt);
  ASSERT_TRUE(before.ok()) << before.status();
  auto step = [](const cases::v1::PreviewDeadlinesResponse& r, DeadlineStep s) {
    for (const auto& p : r.deadlines()) {
      if (p.step() == s) return p;
    }
    ADD_FAILURE() << "no " << StepName(s);
    return cases::v1::DeadlinePreview();
  };
  for (DeadlineStep s : {kHandle, kAccept}) {
    EXPECT_FALSE(step(*before, s).has_due_date()) << StepName(s);
    EXPECT_NE(step(*before, s).problem().find("does not cover 2024"), std::string::npos)
        << step(*before, s).problem();
  }
  // Acceptance could not be dated, so settlement is assumed from receipt:
  // day 30 is 1 January 2025, a holiday; the period ends on 2 January.
  EXPECT_TRUE(step(*before, kSettle).problem().empty()) << step(*before, kSettle).problem();
  EXPECT_EQ(FormatDate(step(*before, kSettle).due_date()), "2025-01-02");

  // Received 30 December 2024, accepted 2 January 2025: only letter handling
  // (working days through 31 December 2024) fails.
  auto mixed = engine_->Preview(facts, D(2024, 12, 30), D(2025, 1, 2));
  ASSERT_TRUE(mixed.ok()) << mixed.status();
  EXPECT_NE(step(*mixed, kHandle).problem().find("does not cover 2024"), std::string::npos);
  EXPECT_EQ(FormatDate(step(*mixed, kAccept).due_date()), "2025-01-09");
  EXPECT_TRUE(step(*mixed, kAccept).problem().empty());
  // Day 30 from 2 January 2025 is Saturday 1 February: Monday 3 February.
  EXPECT_EQ(FormatDate(step(*mixed, kSettle).due_date()), "2025-02-03");
}

// When the Government publishes 2027, the clocks counted through it are
// recomputed on the published days; one that moves, moves.
TEST_F(Shipped, PublishingTheYearMovesOnlyTheClocksItChanges) {
  const ClockFacts letter{kPetition};
  DeadlineClock through_tet = Clock(ClockTrigger::kReceived, kHandle, letter, D(2027, 1, 29));
  DeadlineClock in_march = Clock(ClockTrigger::kReceived, kHandle, letter, D(2027, 3, 1));
  ASSERT_EQ(Due(through_tet), D(2027, 2, 19));
  ASSERT_EQ(Due(in_march), D(2027, 3, 15));
  // A "published" 2027 (tests/data): Tết from Thursday 4 to Friday 12
  // February and a make-up Saturday on 20 February.
  config::v1::WorkingCalendarFile proto;
  ASSERT_TRUE(LoadYamlFile(testing::SourcePath("deploy/calendars/vn-2025-2026.yaml"), &proto).ok());
  proto.mutable_years()->RemoveLast();
  ASSERT_TRUE(
      LoadYamlFile(testing::SourcePath("tests/data/published-2027-example.yaml"), proto.add_years())
          .ok());
  auto published = WorkingCalendar::FromProto(proto, "published");
  ASSERT_TRUE(published.ok()) << published.status();
  const DeadlineEngine after(&*published, &*rules_);
  after.Recompute(through_tet, letter);
  after.Recompute(in_march, letter);
  // Feb 1, 2, 3 (3), Sat 20 Feb counts: 15, 16, 17, 18, 19 (8), 20 (9), 22 (10).
  EXPECT_EQ(Due(through_tet), D(2027, 2, 22));
  EXPECT_EQ(Due(in_march), D(2027, 3, 15));
  after.MarkProvisional(through_tet);
  EXPECT_FALSE(through_tet.has_provisional());
}

// A second complaint: 30 days after the first decision, 45 in a remote area
// (Decree 124/2020 Art 4); a denunciation has no filing limit.
TEST_F(Shipped, SecondComplaintFilingLimit) {
  cases::v1::FilingLimit f;
  *f.mutable_start_date() = ToProtoDate(D(2026, 5, 4));  // first decision received Monday 4 May
  const ClockFacts second{kComplaint, cases::v1::COMPLAINT_ROUND_SECOND};
  engine_->JudgeFiling(f, second, D(2026, 6, 5));
  EXPECT_EQ(f.rule_id(), "complaint-second-file");
  EXPECT_EQ(FormatDate(f.due_date()), "2026-06-03");  // day 30: Wednesday 3 June
  EXPECT_FALSE(f.met());
  EXPECT_EQ(f.days_late(), 2);
  ClockFacts remote = second;
  remote.remote_area = true;
  engine_->JudgeFiling(f, remote, D(2026, 6, 5));
  EXPECT_EQ(f.length_days(), 45);
  EXPECT_EQ(FormatDate(f.due_date()), "2026-06-18");
  EXPECT_TRUE(f.met());
  const ClockFacts denunciation{kDenunciation};
  engine_->JudgeFiling(f, denunciation, D(2026, 6, 5));
  EXPECT_FALSE(f.has_due_date());
  EXPECT_NE(f.problem().find("sets no filing limit"), std::string::npos);
  // Without a start date nothing is judged.
  cases::v1::FilingLimit none;
  engine_->JudgeFiling(none, second, D(2026, 6, 5));
  EXPECT_FALSE(none.has_due_date());
  EXPECT_TRUE(none.problem().empty());
}

TEST_F(Shipped, PreviewListsEveryStepWithItsRule) {
  const ClockFacts facts{kDenunciation, cases::v1::COMPLAINT_ROUND_UNSPECIFIED, false,
                         kVeryComplex};
  auto p = engine_->Preview(facts, D(2026, 3, 2), std::nullopt);
  ASSERT_TRUE(p.ok()) << p.status();
  ASSERT_EQ(p->deadlines_size(), 4);
  EXPECT_EQ(p->deadlines(0).step(), kHandle);
  EXPECT_EQ(p->deadlines(1).step(), kAccept);
  EXPECT_EQ(FormatDate(p->deadlines(1).due_date()), "2026-03-11");
  EXPECT_EQ(FormatDate(p->deadlines(1).latest_due_date()), "2026-03-16");
  EXPECT_EQ(p->deadlines(2).step(), kTransfer);
  EXPECT_FALSE(p->deadlines(2).condition().empty());
  const auto& settle = p->deadlines(3);
  EXPECT_EQ(settle.step(), kSettle);
  EXPECT_TRUE(settle.start_date_assumed());
  EXPECT_EQ(FormatDate(settle.start_date()), "2026-03-11");  // the last day to accept
  EXPECT_EQ(FormatDate(settle.due_date()), "2026-04-10");
  EXPECT_EQ(settle.max_extensions(), 2);
  EXPECT_EQ(FormatDate(settle.latest_due_date()), "2026-06-09");
  EXPECT_NE(settle.explanation().find("Law on Denunciations"), std::string::npos);
  EXPECT_EQ(p->calendar(), "Vietnam state agencies 2025-2026 (2027 provisional)");
}

// A rule pack that changes in the middle of a case: each clock takes the pack
// in force on its own triggering event.
TEST(DeadlineEngine, PackChangeMidCaseTheEventDateDecides) {
  config::v1::RuleSet set;
  ASSERT_TRUE(ParseYaml(R"(
packs:
  - id: old
    effective_from: 2026-01-01
    sources: test
    intake: {mass_case_min_people: 5, representative_limits: [{min_people: 5, max_representatives: 2}]}
    deadlines:
      - {id: accept-old, step: accept, kind: complaint, basis: calendar_days, days: 10, source: old law}
      - {id: settle-old, step: settle, kind: complaint, basis: calendar_days, days: 30, source: old law}
  - id: new
    effective_from: 2026-07-01
    sources: test
    intake: {mass_case_min_people: 5, representative_limits: [{min_people: 5, max_representatives: 2}]}
    deadlines:
      - {id: accept-new, step: accept, kind: complaint, basis: working_days, days: 5, source: new law}
      - {id: settle-new, step: settle, kind: complaint, basis: working_days, days: 20, source: new law}
)",
                        "packs.yaml", &set)
                  .ok());
  auto rules = RuleBook::FromProto(set, "packs.yaml");
  ASSERT_TRUE(rules.ok()) << rules.status();
  auto cal = WorkingCalendar::LoadFile(testing::SourcePath("deploy/calendars/vn-2025-2026.yaml"));
  ASSERT_TRUE(cal.ok());
  DeadlineEngine engine(&*cal, &*rules);
  const ClockFacts facts{kComplaint, cases::v1::COMPLAINT_ROUND_FIRST};
  // Received Thu 25 Jun under the old pack...
  auto accept = engine.Start(ClockTrigger::kReceived, facts, D(2026, 6, 25));
  ASSERT_TRUE(accept.ok());
  ASSERT_EQ(accept->size(), 1u);
  EXPECT_EQ((*accept)[0].rule_id(), "accept-old");
  EXPECT_EQ(FormatDate((*accept)[0].due_date()), "2026-07-06");  // Sun 5 Jul -> Mon
  // ...accepted Thu 2 Jul under the new one.
  auto settle = engine.Start(ClockTrigger::kAccepted, facts, D(2026, 7, 2));
  ASSERT_TRUE(settle.ok());
  EXPECT_EQ((*settle)[0].rule_id(), "settle-new");
  EXPECT_EQ((*settle)[0].rule_pack(), "new");
  EXPECT_EQ(FormatDate((*settle)[0].due_date()), "2026-07-30");  // 20 working days
  // Recomputing later keeps the pack the clock started under.
  engine.Recompute((*accept)[0], facts);
  EXPECT_EQ((*accept)[0].rule_id(), "accept-old");
  // The preview does the same.
  auto p = engine.Preview(facts, D(2026, 6, 25), D(2026, 7, 2));
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->deadlines(0).rule_pack(), "old");
  EXPECT_EQ(p->deadlines(1).rule_pack(), "new");
}

TEST(DeadlineEngine, RuleBookRefusesBadDeadlineRules) {
  config::v1::RuleSet set;
  ASSERT_TRUE(ParseYaml(R"(
packs:
  - id: p
    effective_from: 2026-01-01
    sources: test
    intake: {mass_case_min_people: 5, representative_limits: [{min_people: 5, max_representatives: 2}]}
    deadlines:
      - {id: a, step: accept, kind: complaint, basis: calendar_days, days: 10, source: x}
      - {id: b, step: accept, kind: complaint, basis: working_days, days: 5, source: x}
)",
                        "bad.yaml", &set)
                  .ok());
  auto rules = RuleBook::FromProto(set, "bad.yaml");
  ASSERT_FALSE(rules.ok());
  EXPECT_NE(rules.status().message().find("deadlines[1] (b) repeats the step"), std::string::npos)
      << rules.status();
  set.mutable_packs(0)->mutable_deadlines(1)->set_step(cases::v1::DEADLINE_STEP_SETTLE);
  set.mutable_packs(0)->mutable_deadlines(1)->set_days(0);
  rules = RuleBook::FromProto(set, "bad.yaml");
  ASSERT_FALSE(rules.ok());
  EXPECT_NE(rules.status().message().find("days must be between 1 and 3660"), std::string::npos);
}

}  // namespace
}  // namespace reception
