#include "services/case/case_registry.h"

#include <limits>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "services/case/test_fixture.h"

namespace reception {
namespace {

using cases::v1::Case;
using testing::Await;
using testing::D;

class CaseRegistryTest : public testing::CaseRegistryFixture {
 protected:
  absl::StatusOr<Case> Classify(const std::string& name, bool competent) {
    cases::v1::ClassifyCaseRequest r;
    r.set_name(name);
    r.set_within_competence(competent);
    return Do(officer_, &CaseRegistry::ClassifyCase, r);
  }
};

TEST_F(CaseRegistryTest, CreateAssignsNumberStateOwnerAndHistory) {
  auto c = Create(Complaint("req-1"));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->number(), "48-2026-000001");
  EXPECT_EQ(c->name(), "cases/48-2026-000001");
  EXPECT_EQ(c->state(), cases::v1::CASE_STATE_RECEIVED);
  EXPECT_EQ(c->owner_unit(), "48");
  EXPECT_EQ(c->version(), 1);
  EXPECT_EQ(c->history_length(), 1);
  EXPECT_FALSE(c->identity_protected());
  auto second = Create(Complaint("req-2"));
  EXPECT_EQ(second->number(), "48-2026-000002");
  // The sequence restarts each year; the year is part of the number.
  clock_.Set(absl::FromCivil(absl::CivilSecond(2027, 1, 2, 8, 0, 0), VietnamTimeZone()));
  EXPECT_EQ(Create(Complaint("req-3"))->number(), "48-2027-000001");
}

TEST_F(CaseRegistryTest, CreateIsIdempotentByRequestId) {
  auto first = Create(Complaint("same"));
  ASSERT_TRUE(first.ok());
  auto retry = Create(Complaint("same"));
  ASSERT_TRUE(retry.ok());
  EXPECT_EQ(retry->number(), first->number());
  cases::v1::ListCasesRequest all;
  EXPECT_EQ(registry_->ListCases(officer_, all)->cases_size(), 1);
  auto other = Complaint("same");
  other.mutable_case_()->set_content("something else");
  auto reused = Create(other);
  EXPECT_EQ(reused.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_NE(reused.status().message().find(
                "request_id same was already used to create cases/48-2026-000001"),
            std::string::npos);
}

// An anonymous letter is not a denunciation (Law on Denunciations Art 25):
// it goes on only when it names the violator, brings evidence and can be
// verified, and then as the rule pack says; each archive reason must fit.
TEST_F(CaseRegistryTest, AnonymousLettersPassTheLawsTestOrAreArchived) {
  auto anonymous = [&](const std::string& id) {
    auto r = Denunciation(id);
    r.mutable_case_()->set_anonymous(true);
    r.mutable_case_()->clear_petitioners();
    r.mutable_case_()->set_people_count(1);
    return r;
  };
  cases::v1::AcceptCaseRequest accept;
  accept.set_notice_reference("TL-09/2026");

  auto bare = Create(anonymous("an-1"));
  ASSERT_TRUE(bare.ok()) << bare.status();
  ASSERT_TRUE(Classify(bare->name(), true).ok());
  accept.set_name(bare->name());
  auto refused = Do(officer_, &CaseRegistry::AcceptCase, accept);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find("lacks names_violator, evidence_provided, verifiable"),
            std::string::npos)
      << refused.status();
  EXPECT_NE(refused.status().message().find("Art 25"), std::string::npos);
  cases::v1::ArchiveCaseRequest archive;
  archive.set_name(bare->name());
  archive.set_reason(cases::v1::ARCHIVE_REASON_ANONYMOUS);
  ASSERT_TRUE(Do(officer_, &CaseRegistry::ArchiveCase, archive).ok());

  // Named and with evidence at intake; found verifiable when classified.
  auto r = anonymous("an-2");
  r.mutable_case_()->mutable_anonymous_letter()->set_names_violator(true);
  r.mutable_case_()->mutable_anonymous_letter()->set_evidence_provided(true);
  auto letter = Create(r);
  ASSERT_TRUE(letter.ok()) << letter.status();
  cases::v1::ClassifyCaseRequest classify;
  classify.set_name(letter->name());
  classify.set_within_competence(true);
  *classify.mutable_anonymous_letter() = letter->anonymous_letter();
  classify.mutable_anonymous_letter()->set_verifiable(true);
  classify.mutable_anonymous_letter()->set_evidence_note("Bản sao phiếu thu có chữ ký");
  ASSERT_TRUE(Do(officer_, &CaseRegistry::ClassifyCase, classify).ok());
  accept.set_name(letter->name());
  auto accepted = Do(officer_, &CaseRegistry::AcceptCase, accept);
  ASSERT_TRUE(accepted.ok()) << accepted.status();
  EXPECT_TRUE(accepted->acceptance().information_for_inspection());
  EXPECT_NE(accepted->acceptance().basis().find("handled as information for inspection (Law on "
                                                "Denunciations 25/2018/QH14 Art 25; rule pack"),
            std::string::npos)
      << accepted->acceptance().basis();
  for (const auto& k : accepted->clocks()) {
    EXPECT_NE(k.step(), cases::v1::DEADLINE_STEP_SETTLE) << "no denunciation settlement limit";
  }

  // The facts are for anonymous letters only.
  auto named = Complaint("an-3");
  named.mutable_case_()->mutable_anonymous_letter()->set_names_violator(true);
  auto bad = Create(named);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.status().message().rfind("case.anonymous_letter", 0), 0u) << bad.status();

  // Archive reasons that do not fit the case.
  auto complaint = Create(Complaint("an-4"));
  ASSERT_TRUE(complaint.ok());
  archive.set_name(complaint->name());
  auto wrong = Do(officer_, &CaseRegistry::ArchiveCase, archive);
  EXPECT_EQ(wrong.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(wrong.status().message().find("names its petitioners"), std::string::npos);
  archive.set_reason(cases::v1::ARCHIVE_REASON_ALREADY_GUIDED);
  wrong = Do(officer_, &CaseRegistry::ArchiveCase, archive);
  EXPECT_EQ(wrong.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(wrong.status().message().find("needs a matter guided before"), std::string::npos)
      << wrong.status();
}

// Refusal grounds come from the rule pack with their law: a ground applies
// only to the kinds it lists, and its notice rule is the pack's.
TEST_F(CaseRegistryTest, RefusalGroundsAreThePacksWithTheirLaw) {
  cases::v1::RefuseCaseRequest refuse;
  refuse.set_ground(cases::v1::REFUSAL_GROUND_BEFORE_COURT);
  refuse.set_explanation("Tòa án nhân dân thành phố đã thụ lý vụ án");
  auto petition = Complaint("rf-1");
  petition.mutable_case_()->set_kind(cases::v1::CASE_KIND_PETITION);
  petition.mutable_case_()->clear_complaint_round();
  auto p = Create(petition);
  ASSERT_TRUE(p.ok()) << p.status();
  refuse.set_name(p->name());
  auto wrong = Do(officer_, &CaseRegistry::RefuseCase, refuse);
  EXPECT_EQ(wrong.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(wrong.status().message().find("does not apply to a petition (Law on Complaints"),
            std::string::npos)
      << wrong.status();
  auto c = Create(Complaint("rf-2"));
  ASSERT_TRUE(c.ok());
  refuse.set_name(c->name());
  auto refused = Do(officer_, &CaseRegistry::RefuseCase, refuse);
  ASSERT_TRUE(refused.ok()) << refused.status();
  EXPECT_EQ(refused->state(), cases::v1::CASE_STATE_REFUSED);
  EXPECT_NE(Trail(c->name()).find("refused on ground BEFORE_COURT (Law on Complaints 02/2011/QH13 "
                                  "Art 11"),
            std::string::npos)
      << Trail(c->name());
  // ALREADY_SETTLED needs the head's written notice (the pack says so).
  auto again = Create(Complaint("rf-3"));
  ASSERT_TRUE(again.ok());
  refuse.set_name(again->name());
  refuse.set_ground(cases::v1::REFUSAL_GROUND_ALREADY_SETTLED);
  auto no_notice = Do(officer_, &CaseRegistry::RefuseCase, refuse);
  EXPECT_EQ(no_notice.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(no_notice.status().message().rfind("notice_reference is required", 0), 0u)
      << no_notice.status();
}

// Competence is a decision, not a default: leaving it out is refused.
TEST_F(CaseRegistryTest, ClassifyNeedsTheCompetenceDecision) {
  auto c = Create(Complaint("wc"));
  ASSERT_TRUE(c.ok());
  cases::v1::ClassifyCaseRequest r;
  r.set_name(c->name());
  auto missing = Do(officer_, &CaseRegistry::ClassifyCase, r);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StartsWith(missing.status().message(), "within_competence must be set"))
      << missing.status();
  r.set_within_competence(false);
  auto outside = Do(officer_, &CaseRegistry::ClassifyCase, r);
  ASSERT_TRUE(outside.ok()) << outside.status();
  EXPECT_FALSE(outside->classification().within_competence());
}

// A denunciation outside competence goes to the competent body (TransferCase),
// never back to the denouncer with guidance.
TEST_F(CaseRegistryTest, ADenunciationOutsideCompetenceIsNotGuided) {
  auto c = Create(Denunciation("dg"));
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_TRUE(Classify(c->name(), false).ok());
  cases::v1::GuideCaseRequest guide;
  guide.set_name(c->name());
  guide.set_competent_body("Thanh tra tỉnh");
  auto guided = Do(officer_, &CaseRegistry::GuideCase, guide);
  EXPECT_EQ(guided.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(guided.status().message().find("use TransferCase"), std::string::npos)
      << guided.status();
  cases::v1::GetCaseRequest get;
  get.set_name(c->name());
  auto after = registry_->GetCase(officer_, get);
  ASSERT_TRUE(after.ok());
  EXPECT_FALSE(after->has_guidance());
  for (const auto& k : after->clocks()) {
    EXPECT_NE(k.state(), cases::v1::CLOCK_STATE_MET) << cases::v1::DeadlineStep_Name(k.step());
  }
}

TEST_F(CaseRegistryTest, FullLifecycleWithSuspensionAndAuditTrail) {
  auto c = Create(Complaint("r"));
  const std::string name = c->name();
  ASSERT_TRUE(Classify(name, true).ok());
  cases::v1::AcceptCaseRequest accept;
  accept.set_name(name);
  accept.set_notice_reference("TL-01/2026");
  ASSERT_TRUE(Do(officer_, &CaseRegistry::AcceptCase, accept).ok());
  cases::v1::StartCaseVerificationRequest verify;
  verify.set_name(name);
  EXPECT_EQ(Do(officer_, &CaseRegistry::StartCaseVerification, verify).status().code(),
            absl::StatusCode::kPermissionDenied);
  auto v = Do(inspector_, &CaseRegistry::StartCaseVerification, verify);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->verification().verifier(), "inspector.hung");
  cases::v1::SuspendCaseRequest suspend;
  suspend.set_name(name);
  suspend.set_reason("Chờ kết quả giám định");
  suspend.set_evidence_reference("CV-55/2026");
  *suspend.mutable_date() = D(2026, 11, 25);
  ASSERT_TRUE(Do(officer_, &CaseRegistry::SuspendCase, suspend).ok());
  cases::v1::ResumeCaseRequest resume;
  resume.set_name(name);
  *resume.mutable_date() = D(2026, 11, 24);
  EXPECT_NE(Do(officer_, &CaseRegistry::ResumeCase, resume)
                .status()
                .message()
                .find("date must not be before the pause began (2026-11-25)"),
            std::string::npos);
  resume.clear_date();
  auto resumed = Do(officer_, &CaseRegistry::ResumeCase, resume);
  ASSERT_TRUE(resumed.ok());
  EXPECT_EQ(FormatDate(resumed->suspensions(0).end_date()), "2026-11-27");
  cases::v1::DecideCaseRequest decide;
  decide.set_name(name);
  decide.set_outcome(cases::v1::OUTCOME_DENUNCIATION_FOUNDED);
  decide.set_decision_reference("QĐ-77/2026");
  EXPECT_NE(Do(head_, &CaseRegistry::DecideCase, decide)
                .status()
                .message()
                .find("does not fit a complaint"),
            std::string::npos);
  decide.set_outcome(cases::v1::OUTCOME_COMPLAINT_PARTLY_RIGHT);
  // The inspector verified; the decision is the head's.
  auto by_inspector = Do(inspector_, &CaseRegistry::DecideCase, decide);
  EXPECT_EQ(by_inspector.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_NE(by_inspector.status().message().find("needs the head role"), std::string::npos);
  ASSERT_TRUE(Do(head_, &CaseRegistry::DecideCase, decide).ok());
  cases::v1::CloseCaseRequest close;
  close.set_name(name);
  auto closed = Do(officer_, &CaseRegistry::CloseCase, close);
  ASSERT_TRUE(closed.ok());
  EXPECT_EQ(closed->state(), cases::v1::CASE_STATE_CLOSED);
  EXPECT_EQ(closed->history_length(), 8);
  EXPECT_EQ(
      Trail(name),
      "CreateCase: received complaint (first time) via in_person at unit 48 on 2026-11-20; 1 "
      "petitioner(s), 1 people\n"
      "ClassifyCase: RECEIVED -> CLASSIFIED: within competence, normal\n"
      "AcceptCase: CLASSIFIED -> ACCEPTED: accepted by notice TL-01/2026\n"
      "StartCaseVerification: ACCEPTED -> VERIFYING: verification by inspector.hung\n"
      "SuspendCase: VERIFYING -> SUSPENDED: handling paused from 2026-11-25 (evidence CV-55/2026)\n"
      "ResumeCase: SUSPENDED -> VERIFYING: handling resumed; paused 2026-11-25 to 2026-11-27 "
      "inclusive (3 days), counting again from 2026-11-28\n"
      "DecideCase: VERIFYING -> DECIDED: decided: COMPLAINT_PARTLY_RIGHT by QĐ-77/2026\n"
      "CloseCase: DECIDED -> CLOSED\n");
  cases::v1::VerifyCaseHistoryRequest vr;
  vr.set_name(name);
  auto check = registry_->VerifyCaseHistory(officer_, vr);
  ASSERT_TRUE(check.ok());
  EXPECT_TRUE(check->valid()) << check->problem();
  EXPECT_EQ(check->event_count(), 8);
}

TEST_F(CaseRegistryTest, ForbiddenTransitionStaleEtagAndUnknownCase) {
  auto c = Create(Complaint("r"));
  cases::v1::AcceptCaseRequest accept;
  accept.set_name(c->name());
  accept.set_notice_reference("TL-1");
  auto early = Do(officer_, &CaseRegistry::AcceptCase, accept);
  EXPECT_EQ(early.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(early.status().message().find("the case is RECEIVED"), std::string::npos);
  cases::v1::ClassifyCaseRequest classify;
  classify.set_name(c->name());
  classify.set_within_competence(true);
  classify.set_etag(c->etag());
  ASSERT_TRUE(Do(officer_, &CaseRegistry::ClassifyCase, classify).ok());
  accept.set_etag(c->etag());  // from before the classification
  auto stale = Do(officer_, &CaseRegistry::AcceptCase, accept);
  EXPECT_EQ(stale.status().code(), absl::StatusCode::kAborted);
  EXPECT_NE(stale.status().message().find("is stale"), std::string::npos);
  accept.set_name("cases/48-2026-999999");
  accept.clear_etag();
  EXPECT_EQ(Do(officer_, &CaseRegistry::AcceptCase, accept).status().code(),
            absl::StatusCode::kNotFound);
  Principal viewer{"auditor", Role::kViewer, "48"};
  EXPECT_EQ(Create(Complaint("v")).ok(), true);
  EXPECT_EQ(
      Await<Case>([&](auto cb) { registry_->CreateCase(viewer, Complaint("w"), std::move(cb)); })
          .status()
          .code(),
      absl::StatusCode::kPermissionDenied);
}

TEST_F(CaseRegistryTest, DenouncerIdentityIsSealedRedactedUnsearchableAndRevealedWithAudit) {
  auto c = Create(Denunciation("d"));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->identity_protected());
  EXPECT_EQ(c->petitioners_size(), 0);
  EXPECT_EQ(c->petitioner_count(), 1);
  // Not at rest in clear: scan every family's raw bytes.
  for (const auto& family : CaseRegistry::ColumnFamilies()) {
    auto it = store_->NewIterator(store_->Family(family));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      EXPECT_EQ(it->value().ToString().find("049301009999"), std::string::npos) << family;
      EXPECT_EQ(it->value().ToString().find("Lê Thị Cúc"), std::string::npos) << family;
    }
  }
  cases::v1::ListCasesRequest search;
  search.set_query("Le Thi Cuc");
  EXPECT_EQ(registry_->ListCases(officer_, search)->cases_size(), 0);
  EXPECT_EQ(Trail(c->name()).find("Cúc"), std::string::npos);

  cases::v1::RevealDenouncerIdentityRequest reveal;
  reveal.set_name(c->name());
  reveal.set_reason("Cần xác minh thông tin người tố cáo theo yêu cầu");
  using Resp = cases::v1::RevealDenouncerIdentityResponse;
  auto as = [&](const Principal& p) {
    return Await<Resp>(
        [&](auto cb) { registry_->RevealDenouncerIdentity(p, reveal, std::move(cb)); });
  };
  EXPECT_EQ(as(officer_).status().code(), absl::StatusCode::kPermissionDenied);
  Principal outsider{"inspector.x", Role::kInspector, "48-13"};
  EXPECT_EQ(as(outsider).status().code(), absl::StatusCode::kPermissionDenied);
  reveal.set_reason("short");
  EXPECT_EQ(as(inspector_).status().code(), absl::StatusCode::kInvalidArgument);
  reveal.set_reason("Cần xác minh thông tin người tố cáo theo yêu cầu");
  auto shown = as(inspector_);
  ASSERT_TRUE(shown.ok()) << shown.status();
  ASSERT_EQ(shown->petitioners_size(), 1);
  EXPECT_EQ(shown->petitioners(0).full_name(), "Lê Thị Cúc");
  EXPECT_EQ(shown->audit_event_sequence(), 2);
  EXPECT_NE(Trail(c->name()).find(
                "RevealDenouncerIdentity: denouncer identity revealed to inspector.hung"),
            std::string::npos);
  // A complaint holds no protected identity.
  auto complaint = Create(Complaint("c"));
  reveal.set_name(complaint->name());
  EXPECT_EQ(as(inspector_).status().code(), absl::StatusCode::kFailedPrecondition);

  // Ten zero-width or ideographic spaces are not a reason.
  reveal.set_name(c->name());
  reveal.set_reason("\u200b\u200b\u200b\u200b\u200b\u200b\u200b\u200b\u200b\u200b\u200b\u200b");
  auto blank = as(inspector_);
  EXPECT_EQ(blank.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(blank.status().message().find("10 visible characters"), std::string::npos)
      << blank.status();
  reveal.set_reason("\u3000\u3000\u3000\u3000\u3000\u3000\u3000\u3000\u3000\u3000\u3000");
  EXPECT_EQ(as(inspector_).status().code(), absl::StatusCode::kInvalidArgument);

  // Frozen by a transfer not yet acknowledged: no reveal here (the new owner
  // may already hold it, and this reveal would never reach its trail).
  cases::v1::TransferCaseRequest transfer;
  transfer.set_name(c->name());
  transfer.set_destination_unit("48-1");
  transfer.set_reason("Thuộc thẩm quyền của UBND phường");
  transfer.set_request_id("freeze");
  ASSERT_TRUE(Await<cases::v1::Handoff>([&](auto cb) {
                registry_->TransferCase(officer_, transfer, std::move(cb));
              }).ok());
  reveal.set_reason("Cần xác minh thông tin người tố cáo theo yêu cầu");
  auto frozen = as(inspector_);
  EXPECT_EQ(frozen.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(frozen.status().message().find("being handed to another unit"), std::string::npos)
      << frozen.status();
}

TEST_F(CaseRegistryTest, SearchIgnoresDiacriticsAndPagesAreStable) {
  for (int i = 0; i < 7; ++i) ASSERT_TRUE(Create(Complaint(absl::StrCat("r", i))).ok());
  auto other = Complaint("x");
  other.mutable_case_()->mutable_petitioners(0)->set_full_name("Phạm Thị Hoa");
  other.mutable_case_()->mutable_petitioners(0)->set_citizen_id("049201005555");
  ASSERT_TRUE(Create(other).ok());
  cases::v1::ListCasesRequest q;
  q.set_query("nguyen van AN");
  EXPECT_EQ(registry_->ListCases(officer_, q)->cases_size(), 7);
  q.set_query("Phạm Hoa");
  EXPECT_EQ(registry_->ListCases(officer_, q)->cases_size(), 1);
  // Words of the content, of the names and of the number, together: the
  // search entry holds the number and the names, the content is folded
  // from the case record.
  q.set_query("hoa THU HỒI 123/qđ-ubnd");
  EXPECT_EQ(registry_->ListCases(officer_, q)->cases_size(), 1);
  q.set_query("hoa thu hoi dat khong co");
  EXPECT_EQ(registry_->ListCases(officer_, q)->cases_size(), 0);
  auto listed = registry_->ListCases(officer_, cases::v1::ListCasesRequest());
  ASSERT_TRUE(listed.ok());
  const Case oldest = listed->cases(0);
  q.set_query(oldest.number());
  ASSERT_EQ(registry_->ListCases(officer_, q)->cases_size(), 1);
  // An entry written before 2026-11-29 holds the whole folded text
  // (content included) and is still read as such.
  ASSERT_TRUE(store_
                  ->CommitAndWait([&](WriteTxn& txn) {
                    txn.Put(store_->Family("search"), oldest.number(),
                            absl::StrCat(absl::AsciiStrToLower(oldest.number()),
                                         " nguyen van an older words"));
                    return absl::OkStatus();
                  })
                  .ok());
  q.set_query("an older words");
  auto older = registry_->ListCases(officer_, q);
  ASSERT_EQ(older->cases_size(), 1);
  EXPECT_EQ(older->cases(0).number(), oldest.number());

  cases::v1::ListCasesRequest page;
  page.set_page_size(3);
  std::vector<std::string> seen;
  for (int guard = 0; guard < 10; ++guard) {
    auto r = registry_->ListCases(officer_, page);
    ASSERT_TRUE(r.ok()) << r.status();
    for (const auto& c : r->cases()) seen.push_back(c.number());
    if (r->next_page_token().empty()) break;
    page.set_page_token(r->next_page_token());
  }
  ASSERT_EQ(seen.size(), 8u);
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(), 8u);

  page.set_page_size(3);
  page.clear_page_token();
  auto first = registry_->ListCases(officer_, page);
  page.set_page_token(first->next_page_token());
  page.set_kind(cases::v1::CASE_KIND_DENUNCIATION);
  EXPECT_NE(registry_->ListCases(officer_, page)
                .status()
                .message()
                .find("page_token was issued for different filters"),
            std::string::npos);
  page.set_page_token("garbage!");
  EXPECT_EQ(registry_->ListCases(officer_, page).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// A selective filter on a large register returns short (even empty) pages
// with a token rather than scanning everything in one call; paging on finds
// every match exactly once.
TEST_F(CaseRegistryTest, ListScansAreBoundedPerCall) {
  for (int i = 0; i < 12; ++i) {
    ASSERT_TRUE(
        Create(i % 4 == 3 ? Denunciation(absl::StrCat("d", i)) : Complaint(absl::StrCat("c", i)))
            .ok());
  }
  CaseRegistry::Deps deps = BaseDeps();
  deps.list_scan_limit = 2;
  CaseRegistry small(deps);
  cases::v1::ListCasesRequest r;
  r.set_kind(cases::v1::CASE_KIND_DENUNCIATION);
  std::vector<std::string> found;
  int calls = 0;
  for (; calls < 20; ++calls) {
    auto page = small.ListCases(officer_, r);
    ASSERT_TRUE(page.ok()) << page.status();
    EXPECT_LE(page->cases_size(), 2);
    for (const auto& c : page->cases()) found.push_back(c.number());
    if (page->next_page_token().empty()) break;
    r.set_page_token(page->next_page_token());
  }
  EXPECT_EQ(found,
            (std::vector<std::string>{"48-2026-000004", "48-2026-000008", "48-2026-000012"}));
  EXPECT_GE(calls, 5);  // 12 records, at most 2 examined per call
}

TEST_F(CaseRegistryTest, FiltersByStateKindUnitAndDates) {
  ASSERT_TRUE(Create(Complaint("a")).ok());
  auto d = Denunciation("b");
  *d.mutable_case_()->mutable_received_date() = D(2026, 11, 25);
  d.mutable_case_()->mutable_reception_unit()->set_code("48-13");
  ASSERT_TRUE(Create(d).ok());
  cases::v1::ListCasesRequest r;
  r.set_kind(cases::v1::CASE_KIND_DENUNCIATION);
  EXPECT_EQ(registry_->ListCases(officer_, r)->cases_size(), 1);
  r.Clear();
  r.set_unit_code("48-13");
  EXPECT_EQ(registry_->ListCases(officer_, r)->cases_size(), 1);
  r.Clear();
  *r.mutable_received_from() = D(2026, 11, 21);
  EXPECT_EQ(registry_->ListCases(officer_, r)->cases_size(), 1);
  *r.mutable_received_to() = D(2026, 11, 20);
  EXPECT_EQ(registry_->ListCases(officer_, r).status().code(), absl::StatusCode::kInvalidArgument);
  r.Clear();
  r.set_state(cases::v1::CASE_STATE_RECEIVED);
  EXPECT_EQ(registry_->ListCases(officer_, r)->cases_size(), 2);
  r.set_state(cases::v1::CASE_STATE_CLOSED);
  EXPECT_EQ(registry_->ListCases(officer_, r)->cases_size(), 0);
}

TEST_F(CaseRegistryTest, GuideAtMostOncePerMatter) {
  auto first = Create(Complaint("a"));
  ASSERT_TRUE(Classify(first->name(), false).ok());
  cases::v1::GuideCaseRequest guide;
  guide.set_name(first->name());
  guide.set_competent_body("UBND phường Hải Châu");
  ASSERT_TRUE(Do(officer_, &CaseRegistry::GuideCase, guide).ok());
  auto again = Complaint("b");
  again.mutable_case_()->set_repeats_case(first->name());
  auto second = Create(again);
  ASSERT_TRUE(Classify(second->name(), false).ok());
  guide.set_name(second->name());
  auto refused = Do(officer_, &CaseRegistry::GuideCase, guide);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find("archive it with reason ALREADY_GUIDED"),
            std::string::npos);
  cases::v1::ArchiveCaseRequest archive;
  archive.set_name(second->name());
  archive.set_reason(cases::v1::ARCHIVE_REASON_ALREADY_GUIDED);
  EXPECT_TRUE(Do(officer_, &CaseRegistry::ArchiveCase, archive).ok());
}

TEST_F(CaseRegistryTest, RefusalAndArchiveRules) {
  auto c = Create(Complaint("a"));
  cases::v1::RefuseCaseRequest refuse;
  refuse.set_name(c->name());
  refuse.set_ground(cases::v1::REFUSAL_GROUND_ALREADY_SETTLED);
  refuse.set_explanation("Đã được giải quyết bằng văn bản");
  EXPECT_NE(Do(officer_, &CaseRegistry::RefuseCase, refuse)
                .status()
                .message()
                .find("notice_reference is required"),
            std::string::npos);
  refuse.set_notice_reference("TB-12/2026");
  auto refused = Do(head_, &CaseRegistry::RefuseCase, refuse);
  ASSERT_TRUE(refused.ok());
  EXPECT_EQ(refused->state(), cases::v1::CASE_STATE_REFUSED);
  auto dup = Create(Complaint("b"));
  cases::v1::ArchiveCaseRequest archive;
  archive.set_name(dup->name());
  archive.set_reason(cases::v1::ARCHIVE_REASON_DUPLICATE);
  EXPECT_NE(Do(officer_, &CaseRegistry::ArchiveCase, archive)
                .status()
                .message()
                .find("duplicate_of is required"),
            std::string::npos);
  archive.set_duplicate_of(c->name());
  EXPECT_EQ(Do(officer_, &CaseRegistry::ArchiveCase, archive)->archival().duplicate_of(),
            c->name());
}

TEST_F(CaseRegistryTest, PartialWithdrawalDependsOnTheRulePackOfTheDay) {
  auto c = Create(Complaint("a"));
  cases::v1::WithdrawCaseRequest w;
  w.set_name(c->name());
  w.set_partial(true);
  w.set_withdrawn_part("Yêu cầu bồi thường");
  w.set_document_reference("ĐR-01");
  // Before 2026-07-01 (Law 136/2025) a complaint could not be withdrawn in part.
  clock_.Set(absl::FromCivil(absl::CivilSecond(2026, 6, 30, 9, 0, 0), VietnamTimeZone()));
  auto old = Complaint("old");
  *old.mutable_case_()->mutable_received_date() = D(2026, 6, 29);
  auto early = Create(old);
  ASSERT_TRUE(early.ok()) << early.status();
  w.set_name(early->name());
  auto refused = Do(officer_, &CaseRegistry::WithdrawCase, w);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find("rule pack vn-2020-12"), std::string::npos);
  clock_.Set(absl::FromCivil(absl::CivilSecond(2026, 11, 27, 9, 0, 0), VietnamTimeZone()));
  auto partly = Do(officer_, &CaseRegistry::WithdrawCase, w);
  ASSERT_TRUE(partly.ok()) << partly.status();
  EXPECT_EQ(partly->state(), cases::v1::CASE_STATE_RECEIVED);
  EXPECT_TRUE(partly->withdrawals(0).partial());
  w.set_partial(false);
  w.clear_withdrawn_part();
  auto whole = Do(officer_, &CaseRegistry::WithdrawCase, w);
  ASSERT_TRUE(whole.ok());
  EXPECT_EQ(whole->state(), cases::v1::CASE_STATE_WITHDRAWN);
  EXPECT_EQ(Do(officer_, &CaseRegistry::WithdrawCase, w).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(CaseRegistryTest, TamperingWithStoredHistoryIsDetected) {
  auto c = Create(Complaint("a"));
  ASSERT_TRUE(Classify(c->name(), true).ok());
  // Rewrite event 1 behind the service's back.
  auto it = store_->NewIterator(store_->Family("events"));
  it->SeekToFirst();
  ASSERT_TRUE(it->Valid());
  cases::v1::CaseEvent e;
  ASSERT_TRUE(e.ParseFromString(it->value().ToString()));
  e.set_summary("nothing happened");
  const std::string key = it->key().ToString();
  ASSERT_TRUE(store_
                  ->CommitAndWait([&](WriteTxn& b) {
                    b.Put(store_->Family("events"), key, e.SerializeAsString());
                    return absl::OkStatus();
                  })
                  .ok());
  cases::v1::VerifyCaseHistoryRequest vr;
  vr.set_name(c->name());
  auto check = registry_->VerifyCaseHistory(officer_, vr);
  ASSERT_TRUE(check.ok());
  EXPECT_FALSE(check->valid());
  EXPECT_EQ(check->first_invalid_sequence(), 1);
}

TEST_F(CaseRegistryTest, StateSurvivesReopen) {
  auto c = Create(Denunciation("a"));
  ASSERT_TRUE(Classify(c->name(), true).ok());
  Open();
  cases::v1::GetCaseRequest get;
  get.set_name(c->name());
  auto again = registry_->GetCase(officer_, get);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->state(), cases::v1::CASE_STATE_CLASSIFIED);
  EXPECT_EQ(Create(Complaint("b"))->number(), "48-2026-000002");
  EXPECT_EQ(Create(Denunciation("a"))->number(), c->number());  // idempotency survives too
}

TEST_F(CaseRegistryTest, ExportsTheReceptionLogForADateRange) {
  ASSERT_TRUE(Create(Complaint("a")).ok());
  ASSERT_TRUE(Create(Denunciation("b")).ok());
  cases::v1::ExportReceptionLogRequest r;
  *r.mutable_start_date() = D(2026, 11, 1);
  *r.mutable_end_date() = D(2026, 11, 30);
  auto log = registry_->ExportReceptionLog(officer_, r);
  ASSERT_TRUE(log.ok()) << log.status();
  EXPECT_EQ(log->row_count(), 2);
  EXPECT_NE(log->csv().find("Nguyễn Văn An"), std::string::npos);
  EXPECT_EQ(log->csv().find("Lê Thị Cúc"), std::string::npos);
  EXPECT_EQ(log->csv().find("049301009999"), std::string::npos);
  *r.mutable_end_date() = D(2027, 12, 1);
  EXPECT_NE(registry_->ExportReceptionLog(officer_, r).status().message().find("at most 366 days"),
            std::string::npos);
}

// The same citizen (matched by a keyed hash of the ID) with similar content
// within the window: the new case is flagged with the earlier one.
TEST_F(CaseRegistryTest, FlagsPossibleDuplicatesBySameCitizenAndSimilarContent) {
  auto first = Create(Complaint("a"));
  ASSERT_TRUE(first.ok());
  EXPECT_TRUE(first->possible_duplicates().empty());
  auto again = Complaint("b");
  again.mutable_case_()->set_content(
      "Khieu nai ve quyet dinh thu hoi dat so 123/QĐ-UBND");  // no accents
  auto second = Create(again);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(std::vector<std::string>(second->possible_duplicates().begin(),
                                     second->possible_duplicates().end()),
            std::vector<std::string>{first->name()});
  EXPECT_NE(Trail(second->name()).find("may repeat " + first->name()), std::string::npos);
  // Different content, another citizen, or outside the window: no flag.
  auto other_content = Complaint("c");
  other_content.mutable_case_()->set_content("Kiến nghị sửa chữa đường giao thông nông thôn");
  EXPECT_TRUE(Create(other_content)->possible_duplicates().empty());
  auto other_citizen = Complaint("d");
  other_citizen.mutable_case_()->mutable_petitioners(0)->set_citizen_id("049201009876");
  EXPECT_TRUE(Create(other_citizen)->possible_duplicates().empty());
  auto long_before = Complaint("e");
  *long_before.mutable_case_()->mutable_received_date() = testing::D(2025, 12, 1);
  EXPECT_TRUE(Create(long_before)->possible_duplicates().empty());  // 354 days apart
  // A denouncer is never matched (nor indexed).
  auto d1 = Create(Denunciation("f"));
  auto d2 = Create(Denunciation("g"));
  ASSERT_TRUE(d1.ok() && d2.ok());
  EXPECT_TRUE(d2->possible_duplicates().empty());
}

TEST_F(CaseRegistryTest, MinutesAreAttachedOnceAndAppearInTheHistory) {
  auto c = Create(Complaint("minutes-1"));
  ASSERT_TRUE(c.ok()) << c.status();
  federation::v1::AttachCaseMinutesRequest r;
  r.set_name(c->name());
  r.set_room("rooms/tiep-dan-27-11");
  r.set_text("BIÊN BẢN TIẾP CÔNG DÂN TRỰC TUYẾN\nKết luận: giao phòng TN&MT kiểm tra.");
  r.mutable_lock_time()->set_seconds(1795000000);
  const Principal node{"node:48", Role::kNode, "48"};
  auto attached = Do(node, &CaseRegistry::AttachCaseMinutes, r);
  ASSERT_TRUE(attached.ok()) << attached.status();
  ASSERT_EQ(attached->minutes_size(), 1);
  EXPECT_EQ(attached->minutes(0).room(), "rooms/tiep-dan-27-11");
  EXPECT_EQ(attached->minutes(0).text(), r.text());
  EXPECT_EQ(attached->state(), cases::v1::CASE_STATE_RECEIVED);
  EXPECT_EQ(attached->version(), 2);
  // A retry of the same room's minutes changes nothing.
  auto again = Do(node, &CaseRegistry::AttachCaseMinutes, r);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->version(), 2);
  EXPECT_EQ(again->minutes_size(), 1);
  cases::v1::GetCaseHistoryRequest h;
  h.set_name(c->name());
  auto history = registry_->GetCaseHistory(officer_, h);
  ASSERT_TRUE(history.ok()) << history.status();
  ASSERT_EQ(history->events_size(), 2);
  EXPECT_EQ(history->events(1).action(), "AttachCaseMinutes");
  EXPECT_EQ(history->events(1).summary(), "minutes of rooms/tiep-dan-27-11 attached");
  // Another node may not attach; nor may people, even the owning unit's
  // staff (minutes come from the room); bad fields are named.
  const Principal other{"node:48-1", Role::kNode, "48-1"};
  EXPECT_EQ(Do(other, &CaseRegistry::AttachCaseMinutes, r).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(Do(officer_, &CaseRegistry::AttachCaseMinutes, r).status().code(),
            absl::StatusCode::kPermissionDenied);
  auto bad = r;
  bad.set_room("tiep-dan");
  auto refused = Do(node, &CaseRegistry::AttachCaseMinutes, bad);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("room"), std::string::npos) << refused.status();
  bad = r;
  bad.clear_text();
  EXPECT_EQ(Do(node, &CaseRegistry::AttachCaseMinutes, bad).status().code(),
            absl::StatusCode::kInvalidArgument);
  bad = r;
  bad.set_name("cases/48-2026-999999");
  EXPECT_EQ(Do(node, &CaseRegistry::AttachCaseMinutes, bad).status().code(),
            absl::StatusCode::kNotFound);
  // A lock time that is no real instant is refused, naming the field.
  for (int64_t seconds : {std::numeric_limits<int64_t>::max(), std::numeric_limits<int64_t>::min(),
                          int64_t{0}, int64_t{1795000000} + 86400 * 30}) {
    bad = r;
    bad.mutable_lock_time()->set_seconds(seconds);
    auto when = Do(node, &CaseRegistry::AttachCaseMinutes, bad);
    EXPECT_EQ(when.status().code(), absl::StatusCode::kInvalidArgument) << seconds;
    EXPECT_NE(when.status().message().find("lock_time"), std::string::npos) << when.status();
  }
}

TEST_F(CaseRegistryTest, ListHandoffsPageTokensNeverWrap) {
  cases::v1::ListHandoffsRequest r;
  r.set_page_token("2147483647");
  r.set_page_size(500);
  auto page = registry_->ListHandoffs(officer_, r);
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_EQ(page->handoffs_size(), 0);
  EXPECT_TRUE(page->next_page_token().empty()) << page->next_page_token();
  r.set_page_token("-1");
  EXPECT_EQ(registry_->ListHandoffs(officer_, r).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace reception
