// A second-time complaint names the first decision it contests (Law on
// Complaints 2011 Art 7, Decree 124/2020 Art 4), without a network: a link
// this node can judge is judged at intake, a paper decision is recorded by
// its number and date, the filing limit counts from the decision, and a
// node below asks its ancestor through its outbox and judges the answer.
#include "services/case/first_complaint_links.h"

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "services/case/test_fixture.h"

namespace reception::testing {
namespace {

using cases::v1::Case;
using cases::v1::PreviousCaseCheck;
using federation::v1::CheckFirstComplaintRequest;
using federation::v1::CheckFirstComplaintResponse;

class FirstComplaintLinksTest : public CaseRegistryFixture {
 protected:
  // This node; `above`: the ancestor it asks, through `deliver`.
  void Reopen(const std::string& unit, const std::string& above,
              Outbox::Deliver deliver = nullptr) {
    registry_.reset();
    CaseRegistry::Deps deps = BaseDeps();
    deps.unit_code = unit;
    deps.ancestor_unit = above;
    deps.deliver_subtree_check = std::move(deliver);
    registry_ = std::make_unique<CaseRegistry>(std::move(deps));
    ASSERT_TRUE(registry_->status().ok()) << registry_->status();
  }

  // A second-time complaint received today (2026-11-27) naming `previous`.
  static cases::v1::CreateCaseRequest Second(const std::string& id, const std::string& previous) {
    auto r = MakeComplaint(id);
    r.mutable_case_()->set_complaint_round(cases::v1::COMPLAINT_ROUND_SECOND);
    r.mutable_case_()->set_previous_case(previous);
    *r.mutable_case_()->mutable_received_date() = D(2026, 11, 27);
    return r;
  }

  // Classifies, accepts, verifies and decides `name` as this node's head.
  void Decide(const std::string& name, const std::string& reference) {
    cases::v1::ClassifyCaseRequest classify;
    classify.set_name(name);
    classify.set_within_competence(true);
    ASSERT_TRUE(Do(officer_, &CaseRegistry::ClassifyCase, classify).ok());
    cases::v1::AcceptCaseRequest accept;
    accept.set_name(name);
    accept.set_notice_reference("TL-1/2026");
    ASSERT_TRUE(Do(officer_, &CaseRegistry::AcceptCase, accept).ok());
    cases::v1::StartCaseVerificationRequest verify;
    verify.set_name(name);
    ASSERT_TRUE(Do(inspector_, &CaseRegistry::StartCaseVerification, verify).ok());
    cases::v1::DecideCaseRequest decide;
    decide.set_name(name);
    decide.set_outcome(cases::v1::OUTCOME_COMPLAINT_WRONG);
    decide.set_decision_reference(reference);
    auto decided = Do(head_, &CaseRegistry::DecideCase, decide);
    ASSERT_TRUE(decided.ok()) << decided.status();
  }
};

// A link to a case of this node: it must exist, be a first-time complaint,
// and have a decision (or a settlement period that ran out); the filing
// limit counts from the decision.
TEST_F(FirstComplaintLinksTest, ALocalLinkIsJudgedAtIntake) {
  auto first = Create(Complaint("sc-1"));
  ASSERT_TRUE(first.ok());
  auto never = Create(Second("sc-2", "cases/48-2026-987654"));
  EXPECT_EQ(never.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(never.status().message(),
            "case.previous_case names no case of unit 48: cases/48-2026-987654 was never "
            "registered here");
  // Received, not yet settled: too early for a second complaint.
  auto early = Create(Second("sc-3", first->name()));
  EXPECT_EQ(early.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(early.status().message(),
                                "has no first decision yet and no settlement period of it has "
                                "run out"))
      << early.status();

  Decide(first->name(), "QĐ-9/2026");
  // The complainant cannot have received the decision before it was made.
  auto before = Second("sc-4", first->name());
  *before.mutable_case_()->mutable_filing_limit()->mutable_start_date() = D(2026, 11, 26);
  auto refused = Create(before);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StartsWith(refused.status().message(),
                               "case.filing_limit.start_date must not be before 2026-11-27"))
      << refused.status();

  auto ok = Create(Second("sc-5", first->name()));
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->previous_case_check().state(), PreviousCaseCheck::STATE_VERIFIED);
  EXPECT_EQ(ok->previous_case_check().checked_unit(), "48");
  EXPECT_EQ(ok->previous_case_check().decision_reference(), "QĐ-9/2026");
  EXPECT_EQ(FormatDate(ok->previous_case_check().decision_date()), "2026-11-27");
  EXPECT_FALSE(ok->previous_case_check().pending());
  // Its filing limit counts from the decision (30 days, met).
  EXPECT_EQ(FormatDate(ok->filing_limit().start_date()), "2026-11-27");
  EXPECT_EQ(ok->filing_limit().counted_from(),
            "the first decision QĐ-9/2026 of 2026-11-27 (" + first->name() + ")");
  EXPECT_TRUE(ok->filing_limit().met());
  EXPECT_EQ(ok->filing_limit().length_days(), 30);

  // The day the complainant received it may come later, never earlier.
  cases::v1::ClassifyCaseRequest classify;
  classify.set_name(ok->name());
  classify.set_within_competence(true);
  *classify.mutable_filing_start_date() = D(2026, 11, 26);
  auto earlier = Do(officer_, &CaseRegistry::ClassifyCase, classify);
  EXPECT_EQ(earlier.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StartsWith(earlier.status().message(),
                               "filing_start_date must not be before 2026-11-27"))
      << earlier.status();

  // A second-time complaint is not a first decision to complain of again.
  auto chained = Create(Second("sc-6", ok->name()));
  EXPECT_EQ(chained.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(chained.status().message(),
            "case.previous_case " + ok->name() + " is not a first-time complaint");
}

// A first decision made on paper, before the system: recorded by its number
// and date, and the filing limit counts from that date.
TEST_F(FirstComplaintLinksTest, APaperFirstDecisionIsRecordedAndCountedFrom) {
  auto r = MakeComplaint("paper-1");
  auto* c = r.mutable_case_();
  c->set_complaint_round(cases::v1::COMPLAINT_ROUND_SECOND);
  c->mutable_first_decision()->set_document_number("125/QĐ-UBND");
  *c->mutable_first_decision()->mutable_date() = D(2026, 9, 1);
  c->mutable_first_decision()->set_issued_by("Chủ tịch UBND quận Hải Châu");
  auto late = Create(r);
  ASSERT_TRUE(late.ok()) << late.status();
  EXPECT_EQ(late->first_decision().document_number(), "125/QĐ-UBND");
  EXPECT_EQ(late->previous_case_check().state(), PreviousCaseCheck::STATE_UNSPECIFIED);
  EXPECT_EQ(FormatDate(late->filing_limit().start_date()), "2026-09-01");
  EXPECT_EQ(late->filing_limit().counted_from(),
            "the first decision 125/QĐ-UBND of 2026-09-01 by Chủ tịch UBND quận Hải Châu, made "
            "outside the system");
  // 30 days from 2026-09-01 ran out long before 2026-11-20.
  EXPECT_FALSE(late->filing_limit().met());
  EXPECT_GT(late->filing_limit().days_late(), 0);

  // The rules of the field.
  auto both = r;
  both.set_request_id("paper-2");
  both.mutable_case_()->set_previous_case("cases/48-2026-000001");
  auto s = Create(both);
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StartsWith(s.status().message(), "case.first_decision must be unset"))
      << s.status();
  auto first_round = r;
  first_round.set_request_id("paper-3");
  first_round.mutable_case_()->set_complaint_round(cases::v1::COMPLAINT_ROUND_FIRST);
  s = Create(first_round);
  EXPECT_EQ(s.status().message(), "case.first_decision applies only to second-time complaints");
  auto future = r;
  future.set_request_id("paper-4");
  *future.mutable_case_()->mutable_first_decision()->mutable_date() = D(2026, 11, 21);
  s = Create(future);
  EXPECT_EQ(s.status().message(), "case.first_decision.date must not be after case.received_date");
  auto nameless = r;
  nameless.set_request_id("paper-5");
  nameless.mutable_case_()->mutable_first_decision()->clear_document_number();
  s = Create(nameless);
  EXPECT_TRUE(absl::StartsWith(s.status().message(), "case.first_decision.document_number"))
      << s.status();
  auto neither = MakeComplaint("paper-6");
  neither.mutable_case_()->set_complaint_round(cases::v1::COMPLAINT_ROUND_SECOND);
  s = Create(neither);
  EXPECT_TRUE(absl::StartsWith(s.status().message(), "case.previous_case must name")) << s.status();
}

// The rule on the facts: a settlement period that ran out without a
// decision opens the second complaint from its last day.
TEST(JudgeFirstComplaint, AnExpiredSettlementPeriodOpensTheSecondRound) {
  CheckFirstComplaintResponse facts;
  facts.set_checked_unit("48");
  facts.set_found(true);
  facts.set_kind(cases::v1::CASE_KIND_COMPLAINT);
  facts.set_complaint_round(cases::v1::COMPLAINT_ROUND_FIRST);
  *facts.mutable_settlement_due_date() = D(2026, 11, 10);
  auto j = JudgeFirstComplaint("cases/48-1-2026-000001", facts, absl::CivilDay(2026, 11, 10));
  EXPECT_FALSE(j.admissible);
  EXPECT_TRUE(absl::StrContains(j.why, "its settlement period runs until 2026-11-10")) << j.why;
  j = JudgeFirstComplaint("cases/48-1-2026-000001", facts, absl::CivilDay(2026, 11, 11));
  EXPECT_TRUE(j.admissible);
  EXPECT_EQ(*j.filing_start, absl::CivilDay(2026, 11, 10));
  // A decision dated after the second complaint was received did not exist
  // then.
  facts.clear_settlement_due_date();
  facts.set_decision_reference("QĐ-1");
  *facts.mutable_decision_date() = D(2026, 11, 12);
  EXPECT_FALSE(JudgeFirstComplaint("cases/48-1-2026-000001", facts, absl::CivilDay(2026, 11, 11))
                   .admissible);
  facts.set_found(false);
  j = JudgeFirstComplaint("cases/48-1-2026-000001", facts, absl::CivilDay(2026, 11, 20));
  EXPECT_EQ(j.why, "cases/48-1-2026-000001 is not held by unit 48");
}

// A ward's second complaint names a case of another ward: it asks the city
// through its outbox, marks the link unverified meanwhile, and judges the
// city's facts (believing none that do not hang together).
TEST_F(FirstComplaintLinksTest, ANodeBelowAsksItsAncestorAndJudgesTheFacts) {
  std::vector<CheckFirstComplaintRequest> asked;
  std::function<Outbox::Answer(const CheckFirstComplaintRequest&)> reply;
  Reopen("48-2", "48",
         [&](const Outbox::Item& item, absl::AnyInvocable<void(Outbox::Answer)> answer) {
           CheckFirstComplaintRequest q;
           ASSERT_TRUE(q.ParseFromString(item.payload));
           EXPECT_EQ(item.peer, "48");
           asked.push_back(q);
           answer(reply(q));
         });
  officer_ = {"officer.hoa", Role::kReceptionOfficer, "48-2"};
  auto create = [&](const std::string& id, const std::string& previous) {
    auto r = Second(id, previous);
    r.mutable_case_()->mutable_respondent()->set_unit_code("48-2");
    return Create(r);
  };
  auto get = [&](const std::string& name) {
    cases::v1::GetCaseRequest g;
    g.set_name(name);
    auto c = registry_->GetCase(officer_, g);
    EXPECT_TRUE(c.ok()) << c.status();
    return c.ok() ? *c : Case();
  };
  auto settle = [&] {
    EXPECT_EQ(registry_->check_outbox()->Pump(), 1);
    registry_->check_outbox()->Drain();
    return WaitFor([&] { return registry_->check_outbox()->List().empty(); }, absl::Seconds(10));
  };
  auto facts = [](bool found) {
    CheckFirstComplaintResponse f;
    f.set_checked_unit("48");
    f.set_found(found);
    if (!found) return f;
    f.set_owner_unit("48-1");
    f.set_kind(cases::v1::CASE_KIND_COMPLAINT);
    f.set_complaint_round(cases::v1::COMPLAINT_ROUND_FIRST);
    f.set_decision_reference("QĐ-31/2026");
    *f.mutable_decision_date() = D(2026, 10, 30);
    return f;
  };
  auto answer = [](const CheckFirstComplaintResponse& f) {
    return Outbox::Answer{Outbox::Verdict::kDelivered, "", f.SerializeAsString()};
  };

  // Verified: the filing limit waited for the decision and is judged now,
  // in an audited change.
  auto c = create("w-1", "cases/48-1-2026-000001");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->previous_case_check().state(), PreviousCaseCheck::STATE_UNVERIFIED);
  EXPECT_TRUE(c->previous_case_check().pending());
  EXPECT_EQ(c->previous_case_check().checked_unit(), "48");
  EXPECT_FALSE(c->has_filing_limit());
  reply = [&](const CheckFirstComplaintRequest&) { return answer(facts(true)); };
  ASSERT_TRUE(settle());
  ASSERT_EQ(asked.size(), 1u);
  EXPECT_EQ(asked[0].case_(), c->name());
  EXPECT_EQ(asked[0].previous_case(), "cases/48-1-2026-000001");
  Case done = get(c->name());
  EXPECT_EQ(done.previous_case_check().state(), PreviousCaseCheck::STATE_VERIFIED);
  EXPECT_FALSE(done.previous_case_check().pending());
  EXPECT_EQ(done.previous_case_check().decision_reference(), "QĐ-31/2026");
  EXPECT_EQ(FormatDate(done.filing_limit().start_date()), "2026-10-30");
  EXPECT_TRUE(done.filing_limit().met());
  EXPECT_EQ(done.version(), c->version() + 1);
  EXPECT_TRUE(absl::StrContains(Trail(c->name()),
                                "CheckFirstComplaint: the first-time complaint "
                                "cases/48-1-2026-000001 was found by unit 48; filing limit "
                                "counted from the first decision QĐ-31/2026 of 2026-10-30"))
      << Trail(c->name());

  // Contradicted: the city follows ward 48-1 and holds no such case.
  // AcceptCase refuses it.
  auto wrong = create("w-2", "cases/48-1-2026-000077");
  ASSERT_TRUE(wrong.ok());
  reply = [&](const CheckFirstComplaintRequest&) { return answer(facts(false)); };
  ASSERT_TRUE(settle());
  Case contradicted = get(wrong->name());
  EXPECT_EQ(contradicted.previous_case_check().state(), PreviousCaseCheck::STATE_CONTRADICTED);
  EXPECT_EQ(contradicted.version(), wrong->version());  // output only
  cases::v1::ClassifyCaseRequest classify;
  classify.set_name(wrong->name());
  classify.set_within_competence(true);
  ASSERT_TRUE(Do(officer_, &CaseRegistry::ClassifyCase, classify).ok());
  cases::v1::AcceptCaseRequest accept;
  accept.set_name(wrong->name());
  accept.set_notice_reference("TL-2/2026");
  auto refused = Do(officer_, &CaseRegistry::AcceptCase, accept);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(refused.status().message(),
                                "unit 48 contradicts the second-time complaint's link: "
                                "cases/48-1-2026-000077 is not held by unit 48"))
      << refused.status();

  // A number from outside the city's subtree cannot be denied by it: the
  // link stays unverified, and AcceptCase goes on, saying so.
  auto elsewhere = create("w-3", "cases/49-2026-000001");
  ASSERT_TRUE(elsewhere.ok());
  ASSERT_TRUE(settle());
  Case unverified = get(elsewhere->name());
  EXPECT_EQ(unverified.previous_case_check().state(), PreviousCaseCheck::STATE_UNVERIFIED);
  EXPECT_FALSE(unverified.previous_case_check().pending());
  EXPECT_TRUE(absl::StrContains(unverified.previous_case_check().detail(),
                                "outside the subtree of unit 48"))
      << unverified.previous_case_check().detail();
  classify.set_name(elsewhere->name());
  ASSERT_TRUE(Do(officer_, &CaseRegistry::ClassifyCase, classify).ok());
  accept.set_name(elsewhere->name());
  auto accepted = Do(officer_, &CaseRegistry::AcceptCase, accept);
  ASSERT_TRUE(accepted.ok()) << accepted.status();
  EXPECT_TRUE(absl::StrContains(Trail(elsewhere->name()),
                                "the link to the first-time complaint cases/49-2026-000001 is "
                                "unverified"));

  // Facts that do not hang together are not believed.
  auto odd = create("w-4", "cases/48-1-2026-000002");
  ASSERT_TRUE(odd.ok());
  reply = [&](const CheckFirstComplaintRequest&) {
    auto f = facts(true);
    f.set_owner_unit("49");
    return answer(f);
  };
  ASSERT_TRUE(settle());
  Case bad = get(odd->name());
  EXPECT_EQ(bad.previous_case_check().state(), PreviousCaseCheck::STATE_UNVERIFIED);
  EXPECT_TRUE(absl::StrContains(bad.previous_case_check().detail(), "was not usable"));
  EXPECT_FALSE(bad.has_filing_limit());
}

// The city answers only the nodes below it, with facts from its own
// records.
TEST_F(FirstComplaintLinksTest, TheAncestorAnswersOnlyTheNodesBelowIt) {
  auto first = Create(Complaint("a-1"));
  ASSERT_TRUE(first.ok());
  Decide(first->name(), "QĐ-5/2026");
  CheckFirstComplaintRequest q;
  q.set_case_("cases/48-2-2026-000009");
  q.set_previous_case(first->name());
  const Principal ward{"node:48-2", Role::kNode, "48-2"};
  auto a = registry_->first_complaint_links().Answer(ward, q);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_TRUE(a->found());
  EXPECT_EQ(a->checked_unit(), "48");
  EXPECT_EQ(a->decision_reference(), "QĐ-5/2026");
  EXPECT_EQ(a->complaint_round(), cases::v1::COMPLAINT_ROUND_FIRST);
  q.set_previous_case("cases/48-2026-000099");
  a = registry_->first_complaint_links().Answer(ward, q);
  ASSERT_TRUE(a.ok());
  EXPECT_FALSE(a->found());
  EXPECT_EQ(registry_->first_complaint_links().Answer(officer_, q).status().code(),
            absl::StatusCode::kPermissionDenied);
  const Principal other{"node:49", Role::kNode, "49"};
  EXPECT_EQ(registry_->first_complaint_links().Answer(other, q).status().code(),
            absl::StatusCode::kPermissionDenied);
  q.set_previous_case("48-2026-000001");
  EXPECT_EQ(registry_->first_complaint_links().Answer(ward, q).status().message(),
            "previous_case must be a case name of the form cases/{number}");
}

}  // namespace
}  // namespace reception::testing
