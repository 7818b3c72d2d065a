#include "services/common/rule_book.h"

#include "gtest/gtest.h"
#include "services/common/test_support.h"
#include "services/common/yaml_proto.h"

namespace reception {
namespace {

TEST(RuleBook, PackInForceFollowsTheEventDate) {
  auto book = RuleBook::LoadFile(testing::SourcePath("deploy/rules/vn.yaml"));
  ASSERT_TRUE(book.ok()) << book.status();
  auto before = book->PackOn(absl::CivilDay(2026, 6, 30));
  auto after = book->PackOn(absl::CivilDay(2026, 7, 1));
  ASSERT_TRUE(before.ok() && after.ok());
  EXPECT_EQ((*before)->id(), "vn-2020-12");
  EXPECT_EQ((*after)->id(), "vn-2026-07");
  EXPECT_FALSE((*before)->intake().partial_withdrawal_allowed());
  EXPECT_TRUE((*after)->intake().partial_withdrawal_allowed());
  EXPECT_FALSE((*before)->intake().citizen_id_required());
  EXPECT_TRUE((*after)->intake().citizen_id_required());
  auto too_early = book->PackOn(absl::CivilDay(2019, 1, 1));
  EXPECT_EQ(too_early.status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(RuleBook, RepresentativeLimitsByDelegationSize) {
  auto book = RuleBook::LoadFile(testing::SourcePath("deploy/rules/vn.yaml"));
  ASSERT_TRUE(book.ok());
  const auto& pack = **book->PackOn(absl::CivilDay(2026, 1, 1));
  EXPECT_EQ(RuleBook::MaxRepresentatives(pack, 4), -1);  // not a mass case
  EXPECT_EQ(RuleBook::MaxRepresentatives(pack, 5), 2);
  EXPECT_EQ(RuleBook::MaxRepresentatives(pack, 10), 2);
  EXPECT_EQ(RuleBook::MaxRepresentatives(pack, 11), 5);
  EXPECT_EQ(RuleBook::MaxRepresentatives(pack, 300), 5);
}

TEST(RuleBook, RejectsBadPacks) {
  config::v1::RuleSet set;
  ASSERT_TRUE(ParseYaml(R"(
packs:
  - id: a
    effective_from: 2026-01-01
    intake: {mass_case_min_people: 5, representative_limits: [{min_people: 5, max_representatives: 2}]}
  - id: b
    effective_from: 2026-01-01
    intake: {mass_case_min_people: 5, representative_limits: [{min_people: 5, max_representatives: 2}]}
)",
                        "r.yaml", &set)
                  .ok());
  EXPECT_NE(RuleBook::FromProto(set, "r.yaml").status().message().find("same day"),
            std::string::npos);
  set.mutable_packs(1)->set_id("a");
  EXPECT_NE(RuleBook::FromProto(set, "r.yaml").status().message().find("used twice"),
            std::string::npos);
  set.mutable_packs()->RemoveLast();
  set.mutable_packs(0)->mutable_intake()->set_mass_case_min_people(0);
  EXPECT_NE(RuleBook::FromProto(set, "r.yaml").status().message().find("mass_case_min_people"),
            std::string::npos);
  set.mutable_packs(0)->mutable_intake()->set_mass_case_min_people(5);
  // Legal grounds and exceptions are data with their law.
  auto* g = set.mutable_packs(0)->add_refusal_grounds();
  g->set_ground(cases::v1::REFUSAL_GROUND_BEFORE_COURT);
  EXPECT_NE(RuleBook::FromProto(set, "r.yaml").status().message().find("needs its source"),
            std::string::npos);
  g->set_source("Law on Complaints Art 11");
  ASSERT_TRUE(RuleBook::FromProto(set, "r.yaml").ok());
  *set.mutable_packs(0)->add_refusal_grounds() = *g;
  EXPECT_NE(RuleBook::FromProto(set, "r.yaml").status().message().find("twice"), std::string::npos);
  set.mutable_packs(0)->mutable_refusal_grounds()->RemoveLast();
  set.mutable_packs(0)->mutable_intake()->mutable_anonymous_letters()->set_handled_as("ignored");
  EXPECT_NE(RuleBook::FromProto(set, "r.yaml").status().message().find("handled_as"),
            std::string::npos);
}

TEST(RuleBook, PeriodicReceptionRulesByLevelAndDate) {
  auto book = RuleBook::LoadFile(testing::SourcePath("deploy/rules/vn.yaml"));
  ASSERT_TRUE(book.ok()) << book.status();
  auto commune = [&](absl::CivilDay day) -> const config::v1::ReceptionFrequencyRule* {
    for (const auto& r : (*book->PackOn(day))->reception_frequency()) {
      if (r.level() == type::v1::UNIT_LEVEL_COMMUNE) return &r;
    }
    return nullptr;
  };
  ASSERT_NE(commune(absl::CivilDay(2026, 6, 30)), nullptr);
  EXPECT_EQ(commune(absl::CivilDay(2026, 6, 30))->per(), config::v1::RECEPTION_PERIOD_WEEK);
  EXPECT_EQ(commune(absl::CivilDay(2026, 7, 1))->per(), config::v1::RECEPTION_PERIOD_MONTH);
  EXPECT_EQ(commune(absl::CivilDay(2026, 7, 1))->min_days(), 2);
  EXPECT_EQ((*book->PackOn(absl::CivilDay(2026, 7, 1)))->reporting().quarter_start_day(), 15);

  config::v1::RuleSet set;
  ASSERT_TRUE(ParseYaml(R"(
packs:
  - id: a
    effective_from: 2026-01-01
    intake: {mass_case_min_people: 5, representative_limits: [{min_people: 5, max_representatives: 2}]}
    reception_frequency:
      - {id: c, level: commune, min_days: 8, per: week, source: x}
)",
                        "r.yaml", &set)
                  .ok());
  EXPECT_NE(RuleBook::FromProto(set, "r.yaml").status().message().find("at most 7 a week"),
            std::string::npos);
  set.mutable_packs(0)->mutable_reception_frequency(0)->set_min_days(1);
  *set.mutable_packs(0)->add_reception_frequency() = set.packs(0).reception_frequency(0);
  set.mutable_packs(0)->mutable_reception_frequency(1)->set_id("d");
  EXPECT_NE(RuleBook::FromProto(set, "r.yaml").status().message().find("repeats the level"),
            std::string::npos);
}

}  // namespace
}  // namespace reception
