// The administrative units as resources, on Quảng Nam 2024 (the Nông Sơn
// merge into Quế Sơn on 2025-01-01): one unit as of a day, lists filtered
// by parent, level and validity, paged by a token that cannot be forged
// into another unit.
#include "services/common/unit_service.h"

#include "gtest/gtest.h"
#include "services/common/civil_date.h"
#include "services/common/test_support.h"

namespace reception {
namespace {

class FixedClock final : public Clock {
 public:
  explicit FixedClock(absl::CivilDay day)
      : now_(absl::FromCivil(absl::CivilSecond(day), VietnamTimeZone())) {}
  absl::Time Now() const override { return now_; }

 private:
  absl::Time now_;
};

class UnitDirectoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto t = Topology::LoadFile(testing::SourcePath("deploy/topology/quang-nam-2024.yaml"));
    ASSERT_TRUE(t.ok()) << t.status();
    topology_ = std::make_unique<Topology>(*std::move(t));
    directory_ = std::make_unique<UnitDirectory>(topology_.get(), &clock_,
                                                 std::set<std::string>{"49", "502"});
  }
  FixedClock clock_{absl::CivilDay(2024, 11, 1)};
  std::unique_ptr<Topology> topology_;
  std::unique_ptr<UnitDirectory> directory_;
};

TEST_F(UnitDirectoryTest, OneUnitAsOfADay) {
  units::v1::GetUnitRequest r;
  r.set_name("units/519-1");
  auto u = directory_->Get(r);
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->display_name(), "Xã Quế Trung");
  EXPECT_EQ(u->level(), type::v1::UNIT_LEVEL_COMMUNE);
  EXPECT_EQ(u->parent(), "units/519");
  EXPECT_EQ(u->successor(), "units/509");
  EXPECT_EQ(FormatDate(u->valid_to()), "2024-12-31");
  EXPECT_TRUE(u->in_force());  // 2024-11-01, before the merge
  EXPECT_FALSE(u->federated());
  *r.mutable_as_of() = ToProtoDate(absl::CivilDay(2025, 1, 1));
  EXPECT_FALSE(directory_->Get(r)->in_force());
  r.set_name("units/502");
  EXPECT_TRUE(directory_->Get(r)->federated());
  r.set_name("units/79");
  EXPECT_EQ(directory_->Get(r).status().code(), absl::StatusCode::kNotFound);
  r.set_name("79");
  EXPECT_EQ(directory_->Get(r).status().message(),
            "name must be a unit name of the form units/{code}");
}

TEST_F(UnitDirectoryTest, ListsByParentLevelAndValidityInPages) {
  units::v1::ListUnitsRequest r;
  r.set_parent("units/519");
  *r.mutable_as_of() = ToProtoDate(absl::CivilDay(2025, 3, 1));
  auto after_merge = directory_->List(r);
  ASSERT_TRUE(after_merge.ok()) << after_merge.status();
  EXPECT_EQ(after_merge->units_size(), 0);  // Nông Sơn's communes were merged
  r.set_show_dissolved(true);
  auto all = directory_->List(r);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->units_size(), 3);
  EXPECT_FALSE(all->units(0).in_force());
  // Pages of one, in code order, the token carrying on.
  r.set_page_size(1);
  std::vector<std::string> codes;
  for (;;) {
    auto page = directory_->List(r);
    ASSERT_TRUE(page.ok()) << page.status();
    for (const auto& u : page->units()) codes.push_back(u.code());
    if (page->next_page_token().empty()) break;
    r.set_page_token(page->next_page_token());
  }
  EXPECT_EQ(codes, (std::vector<std::string>{"519-1", "519-2", "519-3"}));
  // Districts of the province on a day.
  units::v1::ListUnitsRequest districts;
  districts.set_level(type::v1::UNIT_LEVEL_DISTRICT);
  districts.set_page_size(1000);
  auto d = directory_->List(districts);
  ASSERT_TRUE(d.ok());
  ASSERT_GT(d->units_size(), 2);
  for (const auto& u : d->units()) {
    EXPECT_EQ(u.level(), type::v1::UNIT_LEVEL_DISTRICT);
    EXPECT_EQ(u.parent(), "units/49");
  }
  // Bad input names the field.
  r.set_page_token("bm9wZQ");
  EXPECT_EQ(directory_->List(r).status().message(), "page_token is not a token ListUnits returned");
  r.clear_page_token();
  r.set_page_size(1001);
  EXPECT_EQ(directory_->List(r).status().code(), absl::StatusCode::kInvalidArgument);
  r.set_page_size(0);
  r.set_parent("units/nowhere");
  EXPECT_EQ(directory_->List(r).status().message(),
            "parent names no unit of topology Quảng Nam 2024");
}

}  // namespace
}  // namespace reception
