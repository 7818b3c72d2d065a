#include "services/common/civil_date.h"

#include "gtest/gtest.h"

namespace reception {
namespace {

TEST(CivilDate, ParsesAndFormats) {
  auto d = ParseDate("2026-07-01");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(*d, absl::CivilDay(2026, 7, 1));
  EXPECT_EQ(FormatDate(*d), "2026-07-01");
  EXPECT_EQ(FormatDate(ToProtoDate(*d)), "2026-07-01");
}

TEST(CivilDate, RejectsImpossibleDates) {
  EXPECT_FALSE(ParseDate("2026-02-29").ok());
  EXPECT_TRUE(ParseDate("2024-02-29").ok());
  EXPECT_FALSE(ParseDate("2026-13-01").ok());
  EXPECT_FALSE(ParseDate("26-1-1").ok());
  EXPECT_FALSE(ParseDate("2026-01-0x").ok());
}

TEST(CivilDate, ErrorsNameTheField) {
  type::v1::Date d;
  d.set_year(2026);
  d.set_month(4);
  d.set_day(31);
  auto r = ToCivilDay(d, "case.received_date");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "case.received_date.day must be a day of 2026-04");
  d.set_month(0);
  EXPECT_EQ(ToCivilDay(d, "x").status().message(), "x.month must be between 1 and 12");
}

TEST(CivilDate, UnsetIsAllZero) {
  EXPECT_TRUE(IsUnset(type::v1::Date()));
  EXPECT_FALSE(IsUnset(ToProtoDate(absl::CivilDay(2026, 1, 1))));
}

}  // namespace
}  // namespace reception
