#include "services/case/intake.h"

#include <functional>

#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "services/case/test_fixture.h"

namespace reception {
namespace {

using testing::D;

class IntakeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto t = Topology::LoadFile(testing::SourcePath("deploy/topology/da-nang-2025.yaml"));
    auto r = RuleBook::LoadFile(testing::SourcePath("deploy/rules/vn.yaml"));
    ASSERT_TRUE(t.ok() && r.ok());
    topology_ = std::make_unique<Topology>(*std::move(t));
    rules_ = std::make_unique<RuleBook>(*std::move(r));
    env_ = IntakeEnv{topology_.get(), rules_.get(), "48", absl::CivilDay(2026, 11, 27)};
  }
  cases::v1::CreateCaseRequest Good() { return testing::CaseRegistryFixture::Complaint("r1"); }

  std::unique_ptr<Topology> topology_;
  std::unique_ptr<RuleBook> rules_;
  IntakeEnv env_;
};

TEST_F(IntakeTest, GoodComplaintIsNormalised) {
  auto r = Good();
  r.mutable_case_()->mutable_petitioners(0)->set_full_name("Nguye\xcc\x82\xcc\x83n Văn An");  // NFD
  r.mutable_case_()->set_state(cases::v1::CASE_STATE_CLOSED);  // output only: ignored
  auto c = PrepareNewCase(r, env_);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->petitioners(0).full_name(), "Nguyễn Văn An");
  EXPECT_EQ(c->state(), cases::v1::CASE_STATE_UNSPECIFIED);
  EXPECT_EQ(c->people_count(), 1);
  EXPECT_FALSE(c->mass_case());
  EXPECT_EQ(c->reception_unit().code(), "48");
  EXPECT_EQ(c->reception_unit().name(), "Thành phố Đà Nẵng");
}

struct BadCase {
  std::string name;
  std::function<void(cases::v1::Case*)> mutate;
  absl::StatusCode code;
  std::string message;
};

TEST_F(IntakeTest, EveryMalformedFieldIsNamed) {
  const std::vector<BadCase> bad = {
      {"no kind", [](auto* c) { c->set_kind(cases::v1::CASE_KIND_UNSPECIFIED); },
       absl::StatusCode::kInvalidArgument, "case.kind must be one of"},
      {"no round", [](auto* c) { c->set_complaint_round(cases::v1::COMPLAINT_ROUND_UNSPECIFIED); },
       absl::StatusCode::kInvalidArgument, "case.complaint_round must be FIRST or SECOND"},
      {"second without first",
       [](auto* c) { c->set_complaint_round(cases::v1::COMPLAINT_ROUND_SECOND); },
       absl::StatusCode::kInvalidArgument, "case.previous_case must name the first-time complaint"},
      {"bad previous",
       [](auto* c) {
         c->set_complaint_round(cases::v1::COMPLAINT_ROUND_SECOND);
         c->set_previous_case("48-2026-1");
       },
       absl::StatusCode::kInvalidArgument,
       "case.previous_case must be a case name of the form cases/{number}"},
      {"bad utf8", [](auto* c) { c->mutable_petitioners(0)->set_full_name("Nguy\xc3\x28n"); },
       absl::StatusCode::kInvalidArgument, "case.petitioners[0].full_name must be valid UTF-8"},
      {"empty name", [](auto* c) { c->mutable_petitioners(0)->set_full_name("  "); },
       absl::StatusCode::kInvalidArgument, "case.petitioners[0].full_name must not be empty"},
      {"name too long",
       [](auto* c) { c->mutable_petitioners(0)->set_full_name(std::string(201, 'a')); },
       absl::StatusCode::kInvalidArgument,
       "case.petitioners[0].full_name must be at most 200 characters"},
      {"newline in name", [](auto* c) { c->mutable_petitioners(0)->set_full_name("a\nb"); },
       absl::StatusCode::kInvalidArgument, "must not contain control characters or line breaks"},
      {"short citizen id", [](auto* c) { c->mutable_petitioners(0)->set_citizen_id("12345"); },
       absl::StatusCode::kInvalidArgument, "case.petitioners[0].citizen_id must be 12 digits"},
      {"missing citizen id after 2026-07-01",
       [](auto* c) { c->mutable_petitioners(0)->clear_citizen_id(); },
       absl::StatusCode::kInvalidArgument,
       "case.petitioners[0].citizen_id is required by the rule pack"},
      {"bad phone", [](auto* c) { c->mutable_petitioners(0)->set_phone("09x"); },
       absl::StatusCode::kInvalidArgument, "case.petitioners[0].phone must be at most 20 digits"},
      {"no petitioners", [](auto* c) { c->clear_petitioners(); },
       absl::StatusCode::kInvalidArgument, "case.petitioners must name at least one person"},
      {"duplicate petitioner", [](auto* c) { *c->add_petitioners() = c->petitioners(0); },
       absl::StatusCode::kInvalidArgument, "case.petitioners[1].citizen_id appears twice"},
      {"anonymous complaint", [](auto* c) { c->set_anonymous(true); },
       absl::StatusCode::kInvalidArgument, "case.anonymous applies only to denunciations"},
      {"no channel", [](auto* c) { c->set_channel(cases::v1::CHANNEL_UNSPECIFIED); },
       absl::StatusCode::kInvalidArgument, "case.channel must be set"},
      {"forwarded without body",
       [](auto* c) { c->set_channel(cases::v1::CHANNEL_FORWARDED_PRESS); },
       absl::StatusCode::kInvalidArgument, "case.forwarded_by must not be empty"},
      {"empty content", [](auto* c) { c->set_content(""); }, absl::StatusCode::kInvalidArgument,
       "case.content must not be empty"},
      {"oversized content", [](auto* c) { c->set_content(std::string(20001, 'x')); },
       absl::StatusCode::kInvalidArgument, "case.content must be at most 20000 bytes"},
      {"no respondent", [](auto* c) { c->clear_respondent(); }, absl::StatusCode::kInvalidArgument,
       "case.respondent must name a unit_code or an official_name"},
      {"unknown respondent unit", [](auto* c) { c->mutable_respondent()->set_unit_code("777"); },
       absl::StatusCode::kInvalidArgument, "case.respondent.unit_code \"777\" is not a unit"},
      {"no received date", [](auto* c) { c->clear_received_date(); },
       absl::StatusCode::kInvalidArgument, "case.received_date must be set"},
      {"future date", [](auto* c) { *c->mutable_received_date() = D(2026, 11, 28); },
       absl::StatusCode::kInvalidArgument, "case.received_date must not be in the future"},
      {"impossible date",
       [](auto* c) {
         c->mutable_received_date()->set_month(2);
         c->mutable_received_date()->set_day(30);
       },
       absl::StatusCode::kInvalidArgument, "case.received_date.day must be a day of 2026-02"},
      {"unknown reception unit", [](auto* c) { c->mutable_reception_unit()->set_code("503"); },
       absl::StatusCode::kInvalidArgument, "case.reception_unit.code 503 is not a unit"},
      {"unit not yet existing", [](auto* c) { *c->mutable_received_date() = D(2025, 6, 30); },
       absl::StatusCode::kFailedPrecondition,
       "case.reception_unit.code 48 (Thành phố Đà Nẵng) did not exist on 2025-06-30"},
      {"bad attachment hash",
       [](auto* c) {
         auto* a = c->add_attachments();
         a->set_name("don.pdf");
         a->set_media_type("application/pdf");
         a->set_sha256("abc");
       },
       absl::StatusCode::kInvalidArgument,
       "case.attachments[0].sha256 must be 64 lowercase hexadecimal digits"},
      {"bad media type",
       [](auto* c) {
         auto* a = c->add_attachments();
         a->set_name("don.pdf");
         a->set_media_type("pdf");
       },
       absl::StatusCode::kInvalidArgument, "case.attachments[0].media_type must be a media type"},
      {"people fewer than petitioners", [](auto* c) { c->set_people_count(-1); },
       absl::StatusCode::kInvalidArgument, "case.people_count must be between 0 and 100000"},
  };
  for (const auto& b : bad) {
    auto r = Good();
    b.mutate(r.mutable_case_());
    auto c = PrepareNewCase(r, env_);
    ASSERT_FALSE(c.ok()) << b.name;
    EXPECT_EQ(c.status().code(), b.code) << b.name << ": " << c.status();
    EXPECT_NE(c.status().message().find(b.message), std::string::npos)
        << b.name << ": " << c.status();
  }
}

cases::v1::CreateCaseRequest Delegation(int people, int listed, int reps) {
  auto r = testing::CaseRegistryFixture::Complaint("m");
  auto* c = r.mutable_case_();
  c->clear_petitioners();
  for (int i = 0; i < listed; ++i) {
    auto* p = c->add_petitioners();
    p->set_full_name("Người " + std::to_string(i));
    p->set_citizen_id(absl::StrFormat("0492010%05d", i));
  }
  for (int i = 0; i < reps; ++i) c->add_representative_citizen_ids(c->petitioners(i).citizen_id());
  c->set_people_count(people);
  return r;
}

TEST_F(IntakeTest, MassCaseRepresentativesFollowTheRulePack) {
  auto ok = PrepareNewCase(Delegation(8, 8, 2), env_);
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_TRUE(ok->mass_case());
  auto too_many = PrepareNewCase(Delegation(8, 8, 3), env_);
  EXPECT_NE(
      too_many.status().message().find("case.representative_citizen_ids has 3 representatives; a "
                                       "delegation of 8 people may choose at most 2"),
      std::string::npos)
      << too_many.status();
  EXPECT_TRUE(PrepareNewCase(Delegation(30, 6, 5), env_).ok());
  EXPECT_FALSE(PrepareNewCase(Delegation(30, 6, 6), env_).ok());
  auto not_mass = PrepareNewCase(Delegation(3, 3, 1), env_);
  EXPECT_NE(not_mass.status().message().find("apply only to mass cases (5 or more people"),
            std::string::npos);
  auto stranger = Delegation(8, 8, 1);
  stranger.mutable_case_()->set_representative_citizen_ids(0, "111111111111");
  EXPECT_NE(PrepareNewCase(stranger, env_)
                .status()
                .message()
                .find("case.representative_citizen_ids[0] must be the citizen ID of one of the "
                      "petitioners"),
            std::string::npos);
  auto fewer = Delegation(2, 3, 0);
  EXPECT_NE(PrepareNewCase(fewer, env_)
                .status()
                .message()
                .find("case.people_count must be at least the number of petitioners (3)"),
            std::string::npos);
}

TEST_F(IntakeTest, CitizenIdBecameMandatoryOn20260701) {
  auto r = Good();
  r.mutable_case_()->mutable_petitioners(0)->clear_citizen_id();
  *r.mutable_case_()->mutable_received_date() = D(2026, 6, 30);
  // Before the amendment the same request is fine (if the unit existed).
  EXPECT_TRUE(PrepareNewCase(r, env_).ok());
  *r.mutable_case_()->mutable_received_date() = D(2026, 7, 1);
  EXPECT_FALSE(PrepareNewCase(r, env_).ok());
}

TEST_F(IntakeTest, ReceptionUnitMustBeThisNodeOrBelow) {
  auto r = Good();
  r.mutable_case_()->mutable_reception_unit()->set_code("48-13");
  auto c = PrepareNewCase(r, env_);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->reception_unit().name(), "Phường Hội An");
  IntakeEnv commune = env_;
  commune.node_unit = "48-13";
  r.mutable_case_()->mutable_reception_unit()->set_code("48");
  EXPECT_EQ(PrepareNewCase(r, commune).status().code(), absl::StatusCode::kPermissionDenied);
}

TEST(RequestId, Rules) {
  EXPECT_TRUE(ValidateRequestId("4f1c2d9e-0b7a-4c55-9d1e-7a2b3c4d5e6f").ok());
  EXPECT_NE(ValidateRequestId("").message().find("request_id must be set"), std::string::npos);
  EXPECT_FALSE(ValidateRequestId(std::string(101, 'a')).ok());
  EXPECT_FALSE(ValidateRequestId("has space").ok());
}

TEST(CaseName, Parses) {
  EXPECT_EQ(*ParseCaseName("cases/48-2026-000001", "name"), "48-2026-000001");
  EXPECT_FALSE(ParseCaseName("48-2026-000001", "name").ok());
  EXPECT_FALSE(ParseCaseName("cases/", "name").ok());
  EXPECT_FALSE(ParseCaseName("cases/a/b", "name").ok());
}

}  // namespace
}  // namespace reception
