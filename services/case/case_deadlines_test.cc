// Statutory clocks on cases through the registry: started, paused, extended
// and ended by the transitions; listed by due date; counted in the metrics.
#include <map>

#include "gtest/gtest.h"
#include "services/case/case_registry.h"
#include "services/case/test_fixture.h"
#include "services/common/civil_date.h"

namespace reception {
namespace {

using cases::v1::Case;
using cases::v1::DeadlineClock;
using testing::Await;
using testing::D;

class CaseDeadlinesTest : public testing::CaseRegistryFixture {
 protected:
  absl::StatusOr<Case> CreateOn(cases::v1::CreateCaseRequest r, type::v1::Date received) {
    *r.mutable_case_()->mutable_received_date() = received;
    return Create(r);
  }
  absl::StatusOr<Case> Classify(const std::string& name, bool competent, cases::v1::Complexity cx,
                                type::v1::Date date) {
    cases::v1::ClassifyCaseRequest r;
    r.set_name(name);
    r.set_within_competence(competent);
    r.set_complexity(cx);
    *r.mutable_date() = date;
    return Do(officer_, &CaseRegistry::ClassifyCase, r);
  }
  absl::StatusOr<Case> Accept(const std::string& name, type::v1::Date date) {
    cases::v1::AcceptCaseRequest r;
    r.set_name(name);
    r.set_notice_reference("TL-01/2026");
    *r.mutable_date() = date;
    return Do(officer_, &CaseRegistry::AcceptCase, r);
  }
  absl::StatusOr<Case> Extend(const Principal& p, const std::string& name, const std::string& ref,
                              type::v1::Date date, int days,
                              cases::v1::DeadlineStep step = cases::v1::DEADLINE_STEP_SETTLE) {
    cases::v1::ExtendCaseDeadlineRequest r;
    r.set_name(name);
    r.set_step(step);
    r.set_decision_reference(ref);
    *r.mutable_date() = date;
    r.set_days(days);
    return Do(p, &CaseRegistry::ExtendCaseDeadline, r);
  }
  static const DeadlineClock& ClockOf(const Case& c, cases::v1::DeadlineStep step) {
    for (const auto& k : c.clocks()) {
      if (k.step() == step) return k;
    }
    static const DeadlineClock none;
    ADD_FAILURE() << "no clock for step " << step;
    return none;
  }
  std::vector<std::string> Numbers(const cases::v1::ListCasesRequest& r) {
    std::vector<std::string> out;
    cases::v1::ListCasesRequest page = r;
    do {
      auto resp = registry_->ListCases(officer_, page);
      EXPECT_TRUE(resp.ok()) << resp.status();
      if (!resp.ok()) break;
      for (const auto& c : resp->cases()) out.push_back(c.number());
      page.set_page_token(resp->next_page_token());
    } while (!page.page_token().empty());
    return out;
  }
  void SetToday(absl::CivilDay day) {
    clock_.Set(absl::FromCivil(absl::CivilSecond(day.year(), day.month(), day.day(), 9, 0, 0),
                               VietnamTimeZone()));
  }
  std::map<std::string, double> Gauge(const std::string& family) {
    std::map<std::string, double> out;
    for (const auto& f : registry_->deadline_metrics()->Collect()) {
      if (f.name != family) continue;
      for (const auto& m : f.metric) {
        std::string key;
        for (const auto& l : m.label) key += l.value + "/";
        out[key] = m.gauge.value;
      }
    }
    return out;
  }
};

TEST_F(CaseDeadlinesTest, ClocksFollowTheLifecycle) {
  auto c = CreateOn(Complaint("r1"), D(2026, 3, 2));
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->clocks_size(), 2);
  EXPECT_EQ(FormatDate(ClockOf(*c, cases::v1::DEADLINE_STEP_HANDLE_LETTER).due_date()),
            "2026-03-16");
  const auto& accept = ClockOf(*c, cases::v1::DEADLINE_STEP_ACCEPT);
  EXPECT_EQ(FormatDate(accept.due_date()), "2026-03-12");
  EXPECT_EQ(accept.rule_id(), "complaint-accept");
  EXPECT_EQ(accept.rule_pack(), "vn-2020-12");
  EXPECT_EQ(FormatDate(c->due_date()), "2026-03-12");
  EXPECT_TRUE(c->overdue());  // today is 2026-11-27 in the fixture
  const std::string name = c->name();

  ASSERT_TRUE(Classify(name, true, cases::v1::COMPLEXITY_COMPLEX, D(2026, 3, 5)).ok());
  auto a = Accept(name, D(2026, 3, 10));
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(ClockOf(*a, cases::v1::DEADLINE_STEP_ACCEPT).state(), cases::v1::CLOCK_STATE_MET);
  EXPECT_EQ(ClockOf(*a, cases::v1::DEADLINE_STEP_HANDLE_LETTER).state(),
            cases::v1::CLOCK_STATE_MET);
  const auto& settle = ClockOf(*a, cases::v1::DEADLINE_STEP_SETTLE);
  EXPECT_EQ(settle.length_days(), 45);  // complex first-time complaint
  EXPECT_EQ(FormatDate(settle.due_date()), "2026-04-24");
  EXPECT_EQ(FormatDate(a->due_date()), "2026-04-24");

  cases::v1::StartCaseVerificationRequest verify;
  verify.set_name(name);
  *verify.mutable_date() = D(2026, 3, 11);
  ASSERT_TRUE(Do(inspector_, &CaseRegistry::StartCaseVerification, verify).ok());
  cases::v1::SuspendCaseRequest suspend;
  suspend.set_name(name);
  suspend.set_reason("Chờ kết quả giám định");
  suspend.set_evidence_reference("CV-55/2026");
  *suspend.mutable_date() = D(2026, 3, 20);
  auto s = Do(officer_, &CaseRegistry::SuspendCase, suspend);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(ClockOf(*s, cases::v1::DEADLINE_STEP_SETTLE).state(), cases::v1::CLOCK_STATE_PAUSED);
  EXPECT_FALSE(s->has_due_date());
  EXPECT_FALSE(s->overdue());
  cases::v1::ResumeCaseRequest resume;
  resume.set_name(name);
  *resume.mutable_date() = D(2026, 3, 29);  // the last paused day: 20-29 March, 10 days
  auto r = Do(officer_, &CaseRegistry::ResumeCase, resume);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(FormatDate(ClockOf(*r, cases::v1::DEADLINE_STEP_SETTLE).due_date()), "2026-05-04");
  // The case's suspension and the clock's pause name the same days.
  EXPECT_EQ(FormatDate(r->suspensions(0).end_date()), "2026-03-29");
  ASSERT_EQ(ClockOf(*r, cases::v1::DEADLINE_STEP_SETTLE).pauses_size(), 1);
  EXPECT_EQ(FormatDate(ClockOf(*r, cases::v1::DEADLINE_STEP_SETTLE).pauses(0).start_date()),
            "2026-03-20");
  EXPECT_EQ(FormatDate(ClockOf(*r, cases::v1::DEADLINE_STEP_SETTLE).pauses(0).end_date()),
            "2026-03-29");

  // A one-day pause: suspended and resumed on Wednesday 1 April moves the
  // due date one day, from Monday 4 to Tuesday 5 May.
  *suspend.mutable_date() = D(2026, 4, 1);
  ASSERT_TRUE(Do(officer_, &CaseRegistry::SuspendCase, suspend).ok());
  *resume.mutable_date() = D(2026, 4, 1);
  auto one = Do(officer_, &CaseRegistry::ResumeCase, resume);
  ASSERT_TRUE(one.ok()) << one.status();
  const auto& after = ClockOf(*one, cases::v1::DEADLINE_STEP_SETTLE);
  ASSERT_EQ(after.pauses_size(), 2);
  EXPECT_EQ(FormatDate(after.pauses(1).start_date()), "2026-04-01");
  EXPECT_EQ(FormatDate(after.pauses(1).end_date()), "2026-04-01");
  EXPECT_EQ(FormatDate(one->suspensions(1).end_date()), "2026-04-01");
  EXPECT_EQ(FormatDate(after.due_date()), "2026-05-05");

  cases::v1::DecideCaseRequest decide;
  decide.set_name(name);
  decide.set_outcome(cases::v1::OUTCOME_COMPLAINT_RIGHT);
  decide.set_decision_reference("QĐ-9/2026");
  *decide.mutable_date() = D(2026, 4, 30);
  auto d = Do(head_, &CaseRegistry::DecideCase, decide);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(ClockOf(*d, cases::v1::DEADLINE_STEP_SETTLE).state(), cases::v1::CLOCK_STATE_MET);
  // What is left to do is to make the decision public (below).
  EXPECT_EQ(FormatDate(d->due_date()), "2026-05-15");
  // The clocks are stored with the case.
  cases::v1::GetCaseRequest get;
  get.set_name(name);
  auto stored = registry_->GetCase(officer_, get);
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->clocks_size(), 4);
  EXPECT_EQ(FormatDate(ClockOf(*stored, cases::v1::DEADLINE_STEP_SETTLE).end_date()), "2026-04-30");

  // The decision starts its publication clock: 15 days, Friday 15 May.
  const auto& publish = ClockOf(*d, cases::v1::DEADLINE_STEP_PUBLISH);
  EXPECT_EQ(publish.state(), cases::v1::CLOCK_STATE_RUNNING);
  EXPECT_EQ(publish.rule_id(), "complaint-publish");
  EXPECT_EQ(FormatDate(publish.due_date()), "2026-05-15");
  cases::v1::PublishDecisionRequest pub;
  pub.set_name(name);
  pub.set_method(cases::v1::PUBLICATION_METHOD_POSTING);
  pub.set_reference("TB-niêm-yết-4/2026");
  *pub.mutable_date() = D(2026, 4, 29);
  EXPECT_NE(Do(officer_, &CaseRegistry::PublishDecision, pub)
                .status()
                .message()
                .find("date must not be before the decision"),
            std::string::npos);
  *pub.mutable_date() = D(2026, 5, 12);
  auto published = Do(officer_, &CaseRegistry::PublishDecision, pub);
  ASSERT_TRUE(published.ok()) << published.status();
  EXPECT_EQ(published->state(), cases::v1::CASE_STATE_DECIDED);
  EXPECT_EQ(FormatDate(published->publication().date()), "2026-05-12");
  EXPECT_EQ(ClockOf(*published, cases::v1::DEADLINE_STEP_PUBLISH).state(),
            cases::v1::CLOCK_STATE_MET);
  EXPECT_FALSE(published->has_due_date());
  EXPECT_EQ(Do(officer_, &CaseRegistry::PublishDecision, pub).status().code(),
            absl::StatusCode::kFailedPrecondition);  // once
  pub.set_method(cases::v1::PUBLICATION_METHOD_UNSPECIFIED);
  EXPECT_NE(Do(officer_, &CaseRegistry::PublishDecision, pub).status().message().find("method"),
            std::string::npos);
}

// The complainant's own limit (Law on Complaints Art 9: 90 days), judged at
// intake; a legitimate obstacle's days do not count; a complaint filed late
// cannot be accepted, and OUT_OF_TIME is a ground only for one that was.
TEST_F(CaseDeadlinesTest, FilingLimitJudgedAtIntakeDecidesAcceptanceAndRefusal) {
  // Learned of the act on 20 November 2025: day 90 is 18 February 2026, in
  // Tết, so the limit ends on Monday 23 February. Received 2 March: 7 days
  // late.
  auto late_request = Complaint("f1");
  *late_request.mutable_case_()->mutable_filing_limit()->mutable_start_date() = D(2025, 11, 20);
  auto late = CreateOn(late_request, D(2026, 3, 2));
  ASSERT_TRUE(late.ok()) << late.status();
  const auto& f = late->filing_limit();
  EXPECT_EQ(f.rule_id(), "complaint-first-file");
  EXPECT_EQ(f.length_days(), 90);
  EXPECT_EQ(FormatDate(f.due_date()), "2026-02-23");
  EXPECT_FALSE(f.met());
  EXPECT_EQ(f.days_late(), 7);
  ASSERT_TRUE(Classify(late->name(), true, cases::v1::COMPLEXITY_NORMAL, D(2026, 3, 3)).ok());
  auto refused = Accept(late->name(), D(2026, 3, 4));
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find(
                "filed 7 day(s) after its filing limit ran out on 2026-02-23"),
            std::string::npos)
      << refused.status();

  // Ten days in hospital (5-14 January) do not count: the limit now ends on
  // Saturday 28 February, so on Monday 2 March; filed in time.
  cases::v1::ClassifyCaseRequest again;
  again.set_name(late->name());
  again.set_within_competence(true);
  *again.mutable_date() = D(2026, 3, 4);
  auto* delay = again.add_filing_delays();
  delay->set_obstacle(cases::v1::FILING_OBSTACLE_ILLNESS);
  *delay->mutable_start_date() = D(2026, 1, 5);
  *delay->mutable_end_date() = D(2026, 1, 14);
  // Classification happens once: the delay is recorded on a fresh case.
  auto fresh_request = late_request;
  fresh_request.set_request_id("f2");
  auto fresh = CreateOn(fresh_request, D(2026, 3, 2));
  ASSERT_TRUE(fresh.ok());
  again.set_name(fresh->name());
  EXPECT_NE(Do(officer_, &CaseRegistry::ClassifyCase, again)
                .status()
                .message()
                .find("filing_delays[0].evidence_reference"),
            std::string::npos);
  delay->set_evidence_reference("GRV-BV-115/2026");
  auto in_time = Do(officer_, &CaseRegistry::ClassifyCase, again);
  ASSERT_TRUE(in_time.ok()) << in_time.status();
  EXPECT_EQ(FormatDate(in_time->filing_limit().due_date()), "2026-03-02");
  EXPECT_TRUE(in_time->filing_limit().met());
  EXPECT_EQ(in_time->filing_limit().delays_size(), 1);
  ASSERT_TRUE(Accept(fresh->name(), D(2026, 3, 5)).ok());

  // OUT_OF_TIME: refused for the late one...
  cases::v1::RefuseCaseRequest refuse;
  refuse.set_name(late->name());
  refuse.set_ground(cases::v1::REFUSAL_GROUND_OUT_OF_TIME);
  refuse.set_explanation("Quá thời hiệu khiếu nại, không có lý do chính đáng");
  *refuse.mutable_date() = D(2026, 3, 5);
  auto out_of_time = Do(officer_, &CaseRegistry::RefuseCase, refuse);
  ASSERT_TRUE(out_of_time.ok()) << out_of_time.status();
  EXPECT_EQ(out_of_time->state(), cases::v1::CASE_STATE_REFUSED);
  // ... not for one filed in time, nor one whose limit was never judged.
  auto on_time_request = Complaint("f3");
  *on_time_request.mutable_case_()->mutable_filing_limit()->mutable_start_date() = D(2026, 2, 10);
  auto on_time = CreateOn(on_time_request, D(2026, 3, 2));
  ASSERT_TRUE(on_time.ok());
  EXPECT_TRUE(on_time->filing_limit().met());
  refuse.set_name(on_time->name());
  EXPECT_NE(Do(officer_, &CaseRegistry::RefuseCase, refuse)
                .status()
                .message()
                .find("filed within its limit"),
            std::string::npos);
  auto unjudged = CreateOn(Complaint("f4"), D(2026, 3, 2));
  ASSERT_TRUE(unjudged.ok());
  EXPECT_FALSE(unjudged->has_filing_limit());
  refuse.set_name(unjudged->name());
  EXPECT_NE(
      Do(officer_, &CaseRegistry::RefuseCase, refuse).status().message().find("filing_start_date"),
      std::string::npos);

  // Intake names the field and the rule.
  auto bad = Denunciation("f5");
  *bad.mutable_case_()->mutable_filing_limit()->mutable_start_date() = D(2026, 2, 1);
  EXPECT_NE(CreateOn(bad, D(2026, 3, 2))
                .status()
                .message()
                .find("case.filing_limit applies to complaints only"),
            std::string::npos);
  auto future = Complaint("f6");
  *future.mutable_case_()->mutable_filing_limit()->mutable_start_date() = D(2026, 3, 3);
  EXPECT_NE(CreateOn(future, D(2026, 3, 2)).status().message().find("case.filing_limit.start_date"),
            std::string::npos);
  auto reversed = Complaint("f7");
  *reversed.mutable_case_()->mutable_filing_limit()->mutable_start_date() = D(2026, 1, 1);
  auto* r = reversed.mutable_case_()->mutable_filing_limit()->add_delays();
  r->set_obstacle(cases::v1::FILING_OBSTACLE_NATURAL_DISASTER);
  *r->mutable_start_date() = D(2026, 2, 10);
  *r->mutable_end_date() = D(2026, 2, 1);
  r->set_evidence_reference("XN-UBND-3");
  EXPECT_NE(CreateOn(reversed, D(2026, 3, 2))
                .status()
                .message()
                .find("case.filing_limit.delays[0].end_date must not be before its start_date"),
            std::string::npos);
}

TEST_F(CaseDeadlinesTest, LateAcceptanceIsMissedAndOutsideCompetenceStartsTheTransferClock) {
  auto c = CreateOn(Denunciation("d1"), D(2026, 3, 2));
  ASSERT_TRUE(c.ok());
  auto cl = Classify(c->name(), false, cases::v1::COMPLEXITY_NORMAL, D(2026, 3, 3));
  ASSERT_TRUE(cl.ok()) << cl.status();
  EXPECT_EQ(FormatDate(ClockOf(*cl, cases::v1::DEADLINE_STEP_TRANSFER).due_date()), "2026-03-09");
  cases::v1::GuideCaseRequest guide;
  guide.set_name(c->name());
  guide.set_competent_body("Thanh tra tỉnh");
  *guide.mutable_date() = D(2026, 3, 10);
  // A denunciation is not guided (Law on Denunciations Art 24): it is
  // transferred, here long after its limit.
  EXPECT_EQ(Do(officer_, &CaseRegistry::GuideCase, guide).status().code(),
            absl::StatusCode::kFailedPrecondition);
  cases::v1::TransferCaseRequest transfer;
  transfer.set_name(c->name());
  transfer.set_destination_unit("48-1");
  transfer.set_reason("Thuộc thẩm quyền của UBND phường");
  transfer.set_request_id("late");
  auto h = Await<cases::v1::Handoff>(
      [&](auto cb) { registry_->TransferCase(officer_, transfer, std::move(cb)); });
  ASSERT_TRUE(h.ok()) << h.status();
  cases::v1::GetCaseRequest get;
  get.set_name(c->name());
  auto g = registry_->GetCase(officer_, get);
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_EQ(ClockOf(*g, cases::v1::DEADLINE_STEP_TRANSFER).state(), cases::v1::CLOCK_STATE_MISSED);
  EXPECT_EQ(ClockOf(*g, cases::v1::DEADLINE_STEP_ACCEPT).state(), cases::v1::CLOCK_STATE_CANCELLED);
  // Handling the letter ends with the transfer too, months late.
  EXPECT_EQ(ClockOf(*g, cases::v1::DEADLINE_STEP_HANDLE_LETTER).state(),
            cases::v1::CLOCK_STATE_MISSED);
}

// A denunciation handed to another unit carries its time limit for
// transferring (5 working days from receipt), judged when it leaves.
TEST_F(CaseDeadlinesTest, ATransferredDenunciationIsJudgedOnItsTransferLimit) {
  auto c = CreateOn(Denunciation("dt"), D(2026, 11, 23));
  ASSERT_TRUE(c.ok());
  cases::v1::TransferCaseRequest r;
  r.set_name(c->name());
  r.set_destination_unit("48-1");
  r.set_reason("Thuộc thẩm quyền của UBND phường");
  r.set_request_id("t1");
  auto h = Await<cases::v1::Handoff>(
      [&](auto cb) { registry_->TransferCase(officer_, r, std::move(cb)); });
  ASSERT_TRUE(h.ok()) << h.status();
  cases::v1::GetCaseRequest get;
  get.set_name(c->name());
  auto after = registry_->GetCase(officer_, get);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->state(), cases::v1::CASE_STATE_TRANSFERRED);
  const auto& transfer = ClockOf(*after, cases::v1::DEADLINE_STEP_TRANSFER);
  EXPECT_EQ(FormatDate(transfer.due_date()), "2026-11-30");  // 5 working days from Mon 23 Nov
  EXPECT_EQ(transfer.state(), cases::v1::CLOCK_STATE_MET);   // left on 27 Nov
  EXPECT_EQ(ClockOf(*after, cases::v1::DEADLINE_STEP_ACCEPT).state(),
            cases::v1::CLOCK_STATE_CANCELLED);
  // Not to a unit without a node address, nor to itself.
  r.set_destination_unit("48-2");
  r.set_request_id("t2");
  EXPECT_EQ(Await<cases::v1::Handoff>(
                [&](auto cb) { registry_->TransferCase(officer_, r, std::move(cb)); })
                .status()
                .code(),
            absl::StatusCode::kFailedPrecondition);
}

// A complaint accepted as normal and found complex during verification gets
// its longer limit by the head's written decision (Law on Complaints Art
// 28: 30 days, complex 45), counted again from acceptance under the pack.
TEST_F(CaseDeadlinesTest, ComplexityFoundAfterAcceptanceLengthensTheSettlementLimit) {
  auto c = CreateOn(Complaint("cx"), D(2026, 3, 2));
  ASSERT_TRUE(c.ok());
  const std::string name = c->name();
  ASSERT_TRUE(Classify(name, true, cases::v1::COMPLEXITY_NORMAL, D(2026, 3, 3)).ok());
  auto a = Accept(name, D(2026, 3, 10));
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(ClockOf(*a, cases::v1::DEADLINE_STEP_SETTLE).length_days(), 30);
  const std::string normal_due =
      FormatDate(ClockOf(*a, cases::v1::DEADLINE_STEP_SETTLE).due_date());
  cases::v1::DeclareCaseComplexityRequest r;
  r.set_name(name);
  r.set_complexity(cases::v1::COMPLEXITY_COMPLEX);
  r.set_decision_reference("QĐ-12/2026");
  *r.mutable_date() = D(2026, 3, 20);
  r.set_note("Phải trưng cầu giám định");
  auto by_inspector = Do(inspector_, &CaseRegistry::DeclareCaseComplexity, r);
  EXPECT_EQ(by_inspector.status().code(), absl::StatusCode::kPermissionDenied);
  auto d = Do(head_, &CaseRegistry::DeclareCaseComplexity, r);
  ASSERT_TRUE(d.ok()) << d.status();
  const auto& settle = ClockOf(*d, cases::v1::DEADLINE_STEP_SETTLE);
  EXPECT_EQ(settle.length_days(), 45);
  EXPECT_EQ(FormatDate(settle.due_date()), "2026-04-24");  // as if classified complex
  EXPECT_NE(FormatDate(settle.due_date()), normal_due);
  EXPECT_EQ(d->state(), cases::v1::CASE_STATE_ACCEPTED);
  EXPECT_EQ(d->classification().complexity(), cases::v1::COMPLEXITY_COMPLEX);
  ASSERT_EQ(d->classification().complexity_decisions_size(), 1);
  EXPECT_EQ(d->classification().complexity_decisions(0).from(), cases::v1::COMPLEXITY_NORMAL);
  EXPECT_EQ(d->classification().complexity_decisions(0).decision_reference(), "QĐ-12/2026");
  // Once is enough; a decision must change something.
  auto again = Do(head_, &CaseRegistry::DeclareCaseComplexity, r);
  EXPECT_EQ(again.status().code(), absl::StatusCode::kInvalidArgument);
  r.clear_decision_reference();
  r.set_complexity(cases::v1::COMPLEXITY_VERY_COMPLEX);
  EXPECT_EQ(Do(head_, &CaseRegistry::DeclareCaseComplexity, r).status().code(),
            absl::StatusCode::kInvalidArgument);  // no written decision
  // Before acceptance the classification is the place.
  auto early = CreateOn(Complaint("cx2"), D(2026, 3, 2));
  ASSERT_TRUE(early.ok());
  r.set_name(early->name());
  r.set_decision_reference("QĐ-13/2026");
  EXPECT_EQ(Do(head_, &CaseRegistry::DeclareCaseComplexity, r).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(CaseDeadlinesTest, ExtensionsNeedADecisionAndStopAtTheLimit) {
  auto c = CreateOn(Denunciation("d2"), D(2026, 3, 2));
  ASSERT_TRUE(c.ok());
  const std::string name = c->name();
  ASSERT_TRUE(Classify(name, true, cases::v1::COMPLEXITY_VERY_COMPLEX, D(2026, 3, 3)).ok());
  EXPECT_EQ(Extend(head_, name, "QĐ-1", D(2026, 3, 4), 10).status().code(),
            absl::StatusCode::kFailedPrecondition);  // not accepted yet: no settle clock
  ASSERT_TRUE(Accept(name, D(2026, 3, 5)).ok());
  EXPECT_EQ(Extend(officer_, name, "QĐ-1", D(2026, 3, 20), 30).status().code(),
            absl::StatusCode::kPermissionDenied);
  // The head who settles it decides; the inspector only proposes.
  auto by_inspector = Extend(inspector_, name, "QĐ-1", D(2026, 3, 20), 30);
  EXPECT_EQ(by_inspector.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_NE(by_inspector.status().message().find("needs the head role"), std::string::npos);
  auto e1 = Extend(head_, name, "QĐ-1", D(2026, 3, 20), 30);
  ASSERT_TRUE(e1.ok()) << e1.status();
  EXPECT_EQ(FormatDate(e1->due_date()), "2026-05-04");  // 60 days: 4 May
  auto e2 = Extend(head_, name, "QĐ-2", D(2026, 4, 28), 30);
  ASSERT_TRUE(e2.ok()) << e2.status();
  EXPECT_EQ(FormatDate(e2->due_date()), "2026-06-03");  // 90 days from 5 Mar
  auto e3 = Extend(head_, name, "QĐ-3", D(2026, 5, 20), 5);
  EXPECT_EQ(e3.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(e3.status().message().find("at most 2 extension(s) for a very_complex case"),
            std::string::npos)
      << e3.status();
  cases::v1::GetCaseHistoryRequest h;
  h.set_name(name);
  auto history = registry_->GetCaseHistory(officer_, h);
  ASSERT_TRUE(history.ok());
  int extensions = 0;
  for (const auto& ev : history->events()) extensions += ev.action() == "ExtendCaseDeadline";
  EXPECT_EQ(extensions, 2);
}

TEST_F(CaseDeadlinesTest, ListByDueDateOverdueAndAtRisk) {
  SetToday(absl::CivilDay(2026, 3, 20));
  auto a = CreateOn(Complaint("a"), D(2026, 3, 2));   // accept due Thu 12 Mar: overdue
  auto b = CreateOn(Complaint("b"), D(2026, 3, 16));  // accept due Thu 26 Mar
  auto c = CreateOn(Complaint("c"), D(2026, 3, 19));  // accept due Sun 29 -> Mon 30 Mar
  auto d = CreateOn(Complaint("d"), D(2026, 3, 3));
  ASSERT_TRUE(a.ok() && b.ok() && c.ok() && d.ok());
  cases::v1::ArchiveCaseRequest archive;
  archive.set_name(d->name());
  archive.set_reason(cases::v1::ARCHIVE_REASON_UNSIGNED);
  archive.set_note("Đơn không có chữ ký");
  ASSERT_TRUE(Do(officer_, &CaseRegistry::ArchiveCase, archive).ok());

  cases::v1::ListCasesRequest by_due;
  by_due.set_order_by("due_date");
  by_due.set_page_size(1);
  EXPECT_EQ(Numbers(by_due),
            (std::vector<std::string>{a->number(), b->number(), c->number(), d->number()}));
  cases::v1::ListCasesRequest overdue;
  overdue.set_overdue(true);
  EXPECT_EQ(Numbers(overdue), std::vector<std::string>{a->number()});
  auto page = registry_->ListCases(officer_, overdue);
  ASSERT_TRUE(page.ok());
  EXPECT_TRUE(page->cases(0).overdue());
  cases::v1::ListCasesRequest at_risk;
  at_risk.set_at_risk_working_days(5);  // through Fri 27 Mar
  EXPECT_EQ(Numbers(at_risk), std::vector<std::string>{b->number()});
  at_risk.set_at_risk_working_days(6);  // through Mon 30 Mar
  EXPECT_EQ(Numbers(at_risk), (std::vector<std::string>{b->number(), c->number()}));
  cases::v1::ListCasesRequest before;
  *before.mutable_due_before() = D(2026, 3, 29);
  before.set_kind(cases::v1::CASE_KIND_COMPLAINT);
  EXPECT_EQ(Numbers(before), (std::vector<std::string>{a->number(), b->number()}));

  // Time passes: b turns overdue without a write.
  SetToday(absl::CivilDay(2026, 3, 27));
  EXPECT_EQ(Numbers(overdue), (std::vector<std::string>{a->number(), b->number()}));
  auto overdue_gauge = Gauge("reception_cases_overdue");
  EXPECT_EQ(overdue_gauge["complaint/accept/"], 2);
  EXPECT_EQ(overdue_gauge["complaint/handle_letter/"], 1);  // a: due 16 Mar
  EXPECT_EQ(Gauge("reception_cases_open")["complaint/accept/"], 3);

  // Bad filters name the field and the rule.
  cases::v1::ListCasesRequest bad = overdue;
  bad.set_at_risk_working_days(3);
  EXPECT_NE(registry_->ListCases(officer_, bad).status().message().find("at_risk_working_days"),
            std::string::npos);
  bad = cases::v1::ListCasesRequest();
  bad.set_order_by("received_date");
  EXPECT_EQ(registry_->ListCases(officer_, bad).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(CaseDeadlinesTest, BoardIsRebuiltFromTheStoreOnRestart) {
  SetToday(absl::CivilDay(2026, 3, 20));
  ASSERT_TRUE(CreateOn(Complaint("a"), D(2026, 3, 2)).ok());
  registry_ = std::make_unique<CaseRegistry>(BaseDeps());
  EXPECT_EQ(Gauge("reception_cases_overdue")["complaint/accept/"], 1);
}

TEST_F(CaseDeadlinesTest, PreviewUsesTheUnitsRemoteFlag) {
  cases::v1::PreviewDeadlinesRequest r;
  r.set_kind(cases::v1::CASE_KIND_COMPLAINT);
  *r.mutable_received_date() = D(2026, 3, 2);
  *r.mutable_accepted_date() = D(2026, 3, 2);
  r.set_complexity(cases::v1::COMPLEXITY_COMPLEX);
  auto city = registry_->PreviewDeadlines(officer_, r);
  ASSERT_TRUE(city.ok()) << city.status();
  ASSERT_EQ(city->deadlines_size(), 3);
  EXPECT_EQ(city->deadlines(2).length_days(), 45);
  r.set_unit_code("48-29");  // Xã Tây Giang, a remote highland commune
  auto remote = registry_->PreviewDeadlines(officer_, r);
  ASSERT_TRUE(remote.ok()) << remote.status();
  EXPECT_EQ(remote->deadlines(2).length_days(), 60);
  EXPECT_TRUE(remote->deadlines(2).remote_area());
  EXPECT_EQ(FormatDate(remote->deadlines(2).due_date()), "2026-05-04");
  EXPECT_NE(remote->deadlines(2).explanation().find("60 calendar days (remote area, complex)"),
            std::string::npos)
      << remote->deadlines(2).explanation();
  // Letter handling has no variants: the explanation does not pretend it has.
  EXPECT_EQ(remote->deadlines(0).explanation().find("remote"), std::string::npos)
      << remote->deadlines(0).explanation();
  r.set_unit_code("99");
  EXPECT_EQ(registry_->PreviewDeadlines(officer_, r).status().code(), absl::StatusCode::kNotFound);
  r.set_unit_code("");
  r.clear_kind();
  EXPECT_NE(registry_->PreviewDeadlines(officer_, r).status().message().find("kind must be set"),
            std::string::npos);
}

}  // namespace
}  // namespace reception
