#include "services/common/topology.h"

#include "gtest/gtest.h"
#include "services/common/test_support.h"
#include "services/common/yaml_proto.h"

namespace reception {
namespace {

TEST(Topology, ShippedQuangNam2024HasThreeLevelsAndHighlands) {
  auto t = Topology::LoadFile(testing::SourcePath("deploy/topology/quang-nam-2024.yaml"));
  ASSERT_TRUE(t.ok()) << t.status();
  const auto* province = t->Find("49");
  ASSERT_NE(province, nullptr);
  EXPECT_EQ(province->name(), "Tỉnh Quảng Nam");
  EXPECT_EQ(t->Children("49").size(), 18u);     // the 18 district-level units of 2024
  EXPECT_TRUE(t->Find("504")->remote_area());   // Tây Giang
  EXPECT_FALSE(t->Find("503")->remote_area());  // Hội An
  EXPECT_TRUE(t->IsWithin("504-1", "49"));
  EXPECT_FALSE(t->IsWithin("49", "504"));
  // Nông Sơn merged into Quế Sơn on 2025-01-01.
  auto ns = t->FindOn("519", absl::CivilDay(2025, 3, 1), "unit");
  ASSERT_FALSE(ns.ok());
  EXPECT_EQ(ns.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(ns.status().message().find("merged into 509"), std::string::npos) << ns.status();
  EXPECT_TRUE(t->FindOn("519", absl::CivilDay(2024, 12, 31), "unit").ok());
}

TEST(Topology, ShippedDaNang2025HasTwoLevels) {
  auto t = Topology::LoadFile(testing::SourcePath("deploy/topology/da-nang-2025.yaml"));
  ASSERT_TRUE(t.ok()) << t.status();
  // Two administrative levels: the city's children are communes (and its
  // state agencies, which are not a level of the map), none with children.
  int agencies = 0;
  for (const auto& code : t->Children("48")) {
    const auto level = t->Find(code)->level();
    EXPECT_TRUE(level == type::v1::UNIT_LEVEL_COMMUNE || level == type::v1::UNIT_LEVEL_AGENCY)
        << code;
    if (level == type::v1::UNIT_LEVEL_AGENCY) ++agencies;
    EXPECT_TRUE(t->Children(code).empty());
  }
  EXPECT_EQ(agencies, 1);
  EXPECT_FALSE(t->FindOn("48", absl::CivilDay(2025, 6, 30), "unit").ok());
  EXPECT_TRUE(t->FindOn("48", absl::CivilDay(2025, 7, 1), "unit").ok());
}

// The unit that decides a jurisdiction dispute: the lowest common ancestor
// on the day, three and two levels, across the 2025 merges.
TEST(Topology, CommonAncestorOnTheDay) {
  auto qn = Topology::LoadFile(testing::SourcePath("deploy/topology/quang-nam-2024.yaml"));
  ASSERT_TRUE(qn.ok()) << qn.status();
  const absl::CivilDay june2025(2025, 6, 16);
  EXPECT_EQ(*qn->CommonAncestor("502-1", "502-2", june2025), "502");  // two wards of Tam Kỳ
  EXPECT_EQ(*qn->CommonAncestor("502-1", "503-1", june2025),
            "49");  // different districts: the province
  EXPECT_EQ(*qn->CommonAncestor("502", "502-3", june2025), "502");  // a district and its commune
  // Nông Sơn merged into Quế Sơn on 2025-01-01: two of its former communes
  // resolve to Quế Sơn (509), which decides; before the merge, Nông Sơn did.
  EXPECT_EQ(*qn->CommonAncestor("519-1", "519-2", absl::CivilDay(2024, 12, 20)), "519");
  EXPECT_EQ(*qn->CommonAncestor("519-1", "519-2", absl::CivilDay(2025, 3, 1)), "509");
  EXPECT_EQ(*qn->CommonAncestor("519-1", "509-1", absl::CivilDay(2025, 3, 1)), "509");
  EXPECT_EQ(qn->CommonAncestor("502-1", "nowhere", june2025).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(qn->CommonAncestor("502-1", "502-2", absl::CivilDay(2025, 7, 2)).status().code(),
            absl::StatusCode::kFailedPrecondition);  // the whole map ended on 30 June 2025

  auto dn = Topology::LoadFile(testing::SourcePath("deploy/topology/da-nang-2025.yaml"));
  ASSERT_TRUE(dn.ok()) << dn.status();
  EXPECT_EQ(*dn->CommonAncestor("48-1", "48-2", absl::CivilDay(2026, 3, 1)), "48");
  EXPECT_EQ(*dn->CommonAncestor("48-1", "48-SNNMT", absl::CivilDay(2026, 3, 1)), "48");
}

absl::Status Load(const std::string& yaml) {
  config::v1::Topology proto;
  if (auto s = ParseYaml(yaml, "t.yaml", &proto); !s.ok()) return s;
  return Topology::FromProto(proto, "t.yaml").status();
}

TEST(Topology, RejectsMalformedTrees) {
  EXPECT_NE(Load("name: x\nunits:\n  - {code: a, name: A, level: province}\n"
                 "  - {code: a, name: B, level: commune, parent_code: a}\n")
                .message()
                .find("used twice"),
            std::string::npos);
  EXPECT_NE(Load("name: x\nunits:\n  - {code: a, name: A, level: commune, parent_code: z}\n")
                .message()
                .find("parent_code z is not a unit"),
            std::string::npos);
  EXPECT_NE(Load("name: x\nunits:\n  - {code: a, name: A, level: commune}\n"
                 "  - {code: b, name: B, level: province, parent_code: a}\n")
                .message()
                .find("lower level than its parent"),
            std::string::npos);
  EXPECT_NE(Load("name: x\nunits:\n  - {code: a, name: A, level: province, valid_from: 2025-01-02, "
                 "valid_to: 2025-01-01}\n")
                .message()
                .find("valid_to is before valid_from"),
            std::string::npos);
  EXPECT_NE(Load("name: x\nunits:\n  - {code: a, level: province}\n")
                .message()
                .find("name must not be empty"),
            std::string::npos);
}

TEST(Topology, UnknownUnitIsNotFound) {
  auto t = Topology::LoadFile(testing::SourcePath("deploy/topology/da-nang-2025.yaml"));
  ASSERT_TRUE(t.ok());
  auto u = t->FindOn("999", absl::CivilDay(2026, 1, 1), "case.reception_unit.code");
  EXPECT_EQ(u.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(u.status().message().find("case.reception_unit.code 999"), std::string::npos);
}

}  // namespace
}  // namespace reception
