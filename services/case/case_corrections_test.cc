// UpdateCase: corrections of what intake recorded, on a real store.
#include "services/case/case_corrections.h"

#include "google/rpc/error_details.pb.h"
#include "gtest/gtest.h"
#include "services/case/test_fixture.h"
#include "services/common/status.h"

namespace reception::testing {
namespace {

using cases::v1::Case;

std::string ReasonOf(const absl::Status& s) {
  auto payload = s.GetPayload(kErrorInfoUrl);
  if (!payload) return "";
  google::rpc::ErrorInfo info;
  info.ParseFromString(std::string(*payload));
  return info.reason();
}

class CaseCorrectionsTest : public CaseRegistryFixture {
 protected:
  absl::StatusOr<Case> Update(const Principal& p, Case c, std::vector<std::string> paths,
                              const std::string& reason = "Sửa theo CCCD bản gốc") {
    cases::v1::UpdateCaseRequest r;
    *r.mutable_case_() = std::move(c);
    for (auto& path : paths) r.mutable_update_mask()->add_paths(path);
    r.set_reason(reason);
    return Do(p, &CaseRegistry::UpdateCase, r);
  }
  Case Get(const std::string& name, const Principal& p) {
    cases::v1::GetCaseRequest r;
    r.set_name(name);
    auto c = registry_->GetCase(p, r);
    EXPECT_TRUE(c.ok()) << c.status();
    return c.ok() ? *c : Case();
  }
  std::vector<std::string> Found(const std::string& query) {
    cases::v1::ListCasesRequest r;
    r.set_query(query);
    auto list = registry_->ListCases(officer_, r);
    EXPECT_TRUE(list.ok()) << list.status();
    std::vector<std::string> out;
    for (const auto& c : list->cases()) out.push_back(c.name());
    return out;
  }
  void Accept(const Case& c) {
    cases::v1::ClassifyCaseRequest classify;
    classify.set_name(c.name());
    classify.set_kind(c.kind());
    classify.set_within_competence(true);
    ASSERT_TRUE(Do(officer_, &CaseRegistry::ClassifyCase, classify).ok());
    cases::v1::AcceptCaseRequest accept;
    accept.set_name(c.name());
    accept.set_notice_reference("12/TB-UBND");
    ASSERT_TRUE(Do(head_, &CaseRegistry::AcceptCase, accept).ok());
  }
};

// A typo in a name and in the content, corrected before acceptance: the case
// changes, the audit trail says what was and what is, and search finds the
// new spelling only.
TEST_F(CaseCorrectionsTest, CorrectsNamesAndContentBeforeAcceptanceWithAnAuditedDiff) {
  auto typo = Complaint("typo");
  typo.mutable_case_()->mutable_petitioners(0)->set_full_name("Nguyễn Văn Ann");
  auto c = Create(typo);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(Found("Nguyen Van Ann"), std::vector<std::string>{c->name()});
  Case fix;
  fix.set_name(c->name());
  fix.set_etag(c->etag());
  *fix.add_petitioners() = c->petitioners(0);
  fix.mutable_petitioners(0)->set_full_name("Nguyễn Văn An");
  fix.set_content("Khiếu nại quyết định thu hồi đất số 125/QĐ-UBND");
  auto fixed = Update(officer_, fix, {"petitioners", "content"});
  ASSERT_TRUE(fixed.ok()) << fixed.status();
  EXPECT_EQ(fixed->petitioners(0).full_name(), "Nguyễn Văn An");
  EXPECT_EQ(fixed->content(), "Khiếu nại quyết định thu hồi đất số 125/QĐ-UBND");
  EXPECT_EQ(fixed->state(), cases::v1::CASE_STATE_RECEIVED);
  EXPECT_NE(fixed->etag(), c->etag());
  EXPECT_EQ(fixed->history_length(), c->history_length() + 1);
  const std::string trail = Trail(c->name());
  EXPECT_NE(trail.find("UpdateCase: corrected petitioners[0].full_name: \"Nguyễn Văn Ann\" -> "
                       "\"Nguyễn Văn An\"; content: \"Khiếu nại quyết định thu hồi đất số "
                       "123/QĐ-UBND\" -> \"Khiếu nại quyết định thu hồi đất số 125/QĐ-UBND\"; "
                       "reason: Sửa theo CCCD bản gốc"),
            std::string::npos)
      << trail;
  cases::v1::VerifyCaseHistoryRequest v;
  v.set_name(c->name());
  EXPECT_TRUE(registry_->VerifyCaseHistory(officer_, v)->valid());
  EXPECT_TRUE(Found("Nguyen Van Ann").empty());
  EXPECT_EQ(Found("Nguyen Van An 125"), std::vector<std::string>{c->name()});
  // The stale etag now fails; the same values again change nothing.
  EXPECT_EQ(Update(officer_, fix, {"content"}).status().code(), absl::StatusCode::kAborted);
  fix.set_etag(fixed->etag());
  auto again = Update(officer_, fix, {"petitioners", "content"});
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->history_length(), fixed->history_length());
  EXPECT_EQ(again->etag(), fixed->etag());
}

// A corrected citizen ID: masked in the trail, and the duplicate index
// follows it (a new matter of the corrected ID is flagged, of the old one
// not).
TEST_F(CaseCorrectionsTest, ACorrectedCitizenIdIsMaskedAndReindexed) {
  auto c = Create(Complaint("id"));
  ASSERT_TRUE(c.ok());
  Case fix;
  fix.set_name(c->name());
  *fix.add_petitioners() = c->petitioners(0);
  fix.mutable_petitioners(0)->set_citizen_id("049201005678");
  ASSERT_TRUE(Update(officer_, fix, {"petitioners"}).ok());
  const std::string trail = Trail(c->name());
  EXPECT_NE(trail.find("petitioners[0].citizen_id: \"*********234\" -> \"*********678\""),
            std::string::npos)
      << trail;
  EXPECT_EQ(trail.find("049201005678"), std::string::npos);
  auto old_id = Create(Complaint("old-id"));
  ASSERT_TRUE(old_id.ok());
  EXPECT_TRUE(old_id->possible_duplicates().empty());
  auto new_id = Complaint("new-id");
  new_id.mutable_case_()->mutable_petitioners(0)->set_citizen_id("049201005678");
  auto flagged = Create(new_id);
  ASSERT_TRUE(flagged.ok());
  EXPECT_EQ(std::vector<std::string>(flagged->possible_duplicates().begin(),
                                     flagged->possible_duplicates().end()),
            std::vector<std::string>{c->name()});
}

// Fields whose change would change the legal meaning are refused with the
// transition that changes them; output-only and unknown paths too.
TEST_F(CaseCorrectionsTest, RefusesLegalFieldsNamingTheRightTransition) {
  auto c = Create(Complaint("legal"));
  ASSERT_TRUE(c.ok());
  Case fix = *c;
  const std::vector<std::pair<std::string, std::string>> refused = {
      {"kind", "ClassifyCase"},
      {"received_date", "register the matter again (CreateCase)"},
      {"complaint_round", "ArchiveCase"},
      {"respondent.unit_code", "RouteCase"},
      {"respondent", "respondent.official_name"},
      {"filing_limit.start_date", "filing_start_date"},
      {"state", "output only"},
      {"petitioners.full_name", "corrected whole: use path petitioners"},
      {"nonsense", "is not a field of Case"},
  };
  for (const auto& [path, says] : refused) {
    auto r = Update(officer_, fix, {path});
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << path;
    EXPECT_NE(r.status().message().find(says), std::string::npos) << r.status();
    EXPECT_NE(r.status().message().find("update_mask"), std::string::npos) << r.status();
  }
  EXPECT_NE(Update(officer_, fix, {}).status().message().find("at least one"), std::string::npos);
  // Values are validated as at intake; the petitioners keep their number.
  fix.mutable_petitioners(0)->set_citizen_id("04920100123");
  auto bad = Update(officer_, fix, {"petitioners"});
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("case.petitioners[0].citizen_id must be 12 digits"),
            std::string::npos)
      << bad.status();
  fix = *c;
  *fix.add_petitioners() = c->petitioners(0);
  fix.mutable_petitioners(1)->set_citizen_id("049201009876");
  EXPECT_NE(Update(officer_, fix, {"petitioners"}).status().message().find("must keep its 1"),
            std::string::npos);
  EXPECT_EQ(Update(officer_, *c, {"content"}, "").status().code(),
            absl::StatusCode::kInvalidArgument);  // a reason is required
  Principal viewer{"auditor", Role::kViewer, "48"};
  EXPECT_EQ(Update(viewer, *c, {"content"}).status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(Trail(c->name()).find("UpdateCase"), std::string::npos);
}

// After acceptance only addresses and phones; a closed matter not at all.
TEST_F(CaseCorrectionsTest, AfterAcceptanceOnlyAddressesAndPhones) {
  auto c = Create(Complaint("accepted"));
  ASSERT_TRUE(c.ok());
  Accept(*c);
  Case fix = Get(c->name(), officer_);
  fix.clear_etag();
  fix.mutable_petitioners(0)->set_address("14 Trần Phú, Hải Châu");
  fix.mutable_petitioners(0)->set_phone("+84 905 123 456");
  auto moved = Update(officer_, fix, {"petitioners"}, "Công dân báo đổi địa chỉ");
  ASSERT_TRUE(moved.ok()) << moved.status();
  EXPECT_EQ(moved->petitioners(0).address(), "14 Trần Phú, Hải Châu");
  EXPECT_EQ(moved->state(), cases::v1::CASE_STATE_ACCEPTED);
  fix.mutable_petitioners(0)->set_full_name("Nguyễn Văn Anh");
  auto renamed = Update(officer_, fix, {"petitioners"});
  EXPECT_EQ(renamed.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ReasonOf(renamed.status()), "CORRECTION_NOT_ALLOWED");
  EXPECT_NE(renamed.status().message().find("case.petitioners[0].full_name"), std::string::npos);
  fix = Get(c->name(), officer_);
  fix.set_content("Nội dung khác");
  EXPECT_EQ(Update(officer_, fix, {"content"}).status().code(),
            absl::StatusCode::kFailedPrecondition);
  cases::v1::WithdrawCaseRequest w;
  w.set_name(c->name());
  w.set_document_reference("Đơn rút");
  ASSERT_TRUE(Do(officer_, &CaseRegistry::WithdrawCase, w).ok());
  auto closed = Update(officer_, Get(c->name(), officer_), {"petitioners"});
  EXPECT_EQ(closed.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ReasonOf(closed.status()), "TRANSITION_NOT_ALLOWED");
}

// A denouncer's identity is corrected sealed: the trail records no value,
// GetCase shows no petitioner, and the revealed identity is the corrected one.
TEST_F(CaseCorrectionsTest, AProtectedIdentityIsSealedAgainAndNeverWritten) {
  auto c = Create(Denunciation("secret"));
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(c->identity_protected());
  ASSERT_EQ(c->petitioners_size(), 0);
  Case fix;
  fix.set_name(c->name());
  auto* p = fix.add_petitioners();
  p->set_full_name("Lê Thị Cúc Phương");
  p->set_citizen_id("049301009999");
  auto fixed = Update(officer_, fix, {"petitioners"}, "Tên đầy đủ theo CCCD");
  ASSERT_TRUE(fixed.ok()) << fixed.status();
  EXPECT_EQ(fixed->petitioners_size(), 0);
  EXPECT_TRUE(fixed->identity_protected());
  const std::string trail = Trail(c->name());
  EXPECT_NE(trail.find("petitioners: corrected (protected identity, sealed again; the values are "
                       "not recorded)"),
            std::string::npos)
      << trail;
  EXPECT_EQ(trail.find("Cúc"), std::string::npos);
  EXPECT_EQ(trail.find("9999"), std::string::npos);
  EXPECT_TRUE(Found("Cuc Phuong").empty());
  cases::v1::RevealDenouncerIdentityRequest reveal;
  reveal.set_name(c->name());
  reveal.set_reason("Cần xác minh nhân thân người tố cáo");
  auto revealed = Await<cases::v1::RevealDenouncerIdentityResponse>(
      [&](auto cb) { registry_->RevealDenouncerIdentity(inspector_, reveal, std::move(cb)); });
  ASSERT_TRUE(revealed.ok()) << revealed.status();
  EXPECT_EQ(revealed->petitioners(0).full_name(), "Lê Thị Cúc Phương");
}

}  // namespace
}  // namespace reception::testing
