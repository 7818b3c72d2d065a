#include "services/calendar/lunar_calendar.h"

#include "gtest/gtest.h"
#include "services/common/civil_date.h"

namespace reception {
namespace {

std::string Solar(const LunarCalendar& cal, LunarDate d) {
  auto s = cal.ToSolar(d);
  return s.ok() ? FormatDate(*s) : std::string(s.status().message());
}

// Vietnamese Tết (1/1) and Hùng Kings' day (10/3) 1990-2050. The table was
// produced by "amlich" (npm, Hồ Ngọc Đức's own JavaScript, an independent
// transcription of the method) and agrees day for day with this module for
// every day 1900-2199 at UTC+7; the published instruments below and the
// years Vietnam and China differ are asserted separately.
struct Year {
  int year;
  const char* tet;
  const char* hung_kings;
};
constexpr Year kVietnam[] = {
    {1990, "1990-01-27", "1990-04-05"}, {1991, "1991-02-15", "1991-04-24"},
    {1992, "1992-02-04", "1992-04-12"}, {1993, "1993-01-23", "1993-04-01"},
    {1994, "1994-02-10", "1994-04-20"}, {1995, "1995-01-31", "1995-04-09"},
    {1996, "1996-02-19", "1996-04-27"}, {1997, "1997-02-07", "1997-04-16"},
    {1998, "1998-01-28", "1998-04-06"}, {1999, "1999-02-16", "1999-04-25"},
    {2000, "2000-02-05", "2000-04-14"}, {2001, "2001-01-24", "2001-04-03"},
    {2002, "2002-02-12", "2002-04-22"}, {2003, "2003-02-01", "2003-04-11"},
    {2004, "2004-01-22", "2004-04-28"}, {2005, "2005-02-09", "2005-04-18"},
    {2006, "2006-01-29", "2006-04-07"}, {2007, "2007-02-17", "2007-04-26"},
    {2008, "2008-02-07", "2008-04-15"}, {2009, "2009-01-26", "2009-04-04"},
    {2010, "2010-02-14", "2010-04-23"}, {2011, "2011-02-03", "2011-04-12"},
    {2012, "2012-01-23", "2012-03-31"}, {2013, "2013-02-10", "2013-04-19"},
    {2014, "2014-01-31", "2014-04-09"}, {2015, "2015-02-19", "2015-04-28"},
    {2016, "2016-02-08", "2016-04-16"}, {2017, "2017-01-28", "2017-04-06"},
    {2018, "2018-02-16", "2018-04-25"}, {2019, "2019-02-05", "2019-04-14"},
    {2020, "2020-01-25", "2020-04-02"}, {2021, "2021-02-12", "2021-04-21"},
    {2022, "2022-02-01", "2022-04-10"}, {2023, "2023-01-22", "2023-04-29"},
    {2024, "2024-02-10", "2024-04-18"}, {2025, "2025-01-29", "2025-04-07"},
    {2026, "2026-02-17", "2026-04-26"}, {2027, "2027-02-06", "2027-04-16"},
    {2028, "2028-01-26", "2028-04-04"}, {2029, "2029-02-13", "2029-04-23"},
    {2030, "2030-02-02", "2030-04-12"}, {2031, "2031-01-23", "2031-04-01"},
    {2032, "2032-02-11", "2032-04-19"}, {2033, "2033-01-31", "2033-04-09"},
    {2034, "2034-02-19", "2034-04-28"}, {2035, "2035-02-08", "2035-04-17"},
    {2036, "2036-01-28", "2036-04-06"}, {2037, "2037-02-15", "2037-04-24"},
    {2038, "2038-02-04", "2038-04-13"}, {2039, "2039-01-24", "2039-04-03"},
    {2040, "2040-02-12", "2040-04-20"}, {2041, "2041-02-01", "2041-04-10"},
    {2042, "2042-01-22", "2042-04-29"}, {2043, "2043-02-10", "2043-04-19"},
    {2044, "2044-01-30", "2044-04-07"}, {2045, "2045-02-17", "2045-04-26"},
    {2046, "2046-02-06", "2046-04-15"}, {2047, "2047-01-26", "2047-04-04"},
    {2048, "2048-02-14", "2048-04-22"}, {2049, "2049-02-02", "2049-04-11"},
    {2050, "2050-01-23", "2050-04-01"},

};

TEST(LunarCalendarTest, TetAndHungKingsDay1990To2050) {
  const LunarCalendar vn;
  for (const Year& y : kVietnam) {
    EXPECT_EQ(Solar(vn, {y.year, 1, 1, false}), y.tet) << y.year;
    EXPECT_EQ(Solar(vn, {y.year, 3, 10, false}), y.hung_kings) << y.year;
  }
}

// The days of the published calendars the project ships (Notice
// 6150/TB-LĐTBXH for 2025, Notice 9441/TB-BNV for 2026): mùng 1 Tết and
// Giỗ Tổ Hùng Vương.
TEST(LunarCalendarTest, MatchesThePublished2025And2026Calendars) {
  const LunarCalendar vn;
  EXPECT_EQ(Solar(vn, {2025, 1, 1, false}), "2025-01-29");
  EXPECT_EQ(Solar(vn, {2025, 3, 10, false}), "2025-04-07");
  EXPECT_EQ(Solar(vn, {2026, 1, 1, false}), "2026-02-17");
  EXPECT_EQ(Solar(vn, {2026, 3, 10, false}), "2026-04-26");
  // 28 and 29 tháng Chạp Ất Tỵ were the first two days of Tết 2025.
  auto before = vn.ToLunar(absl::CivilDay(2025, 1, 28));
  ASSERT_TRUE(before.ok());
  EXPECT_EQ(*before, (LunarDate{2024, 12, 29, false}));
}

// Vietnam counts at UTC+7, China at UTC+8: in these years the new moon falls
// between 16:00 and 17:00 UT (or the months fall differently) and Tết comes
// a day (1985: a month) earlier in Vietnam. The Chinese dates are the
// published Chinese New Year.
TEST(LunarCalendarTest, YearsWhereVietnamDiffersFromChina) {
  const LunarCalendar vn(7.0);
  const LunarCalendar cn(8.0);
  struct Diff {
    int year;
    const char* vietnam;
    const char* china;
  };
  for (const Diff& d :
       {Diff{1985, "1985-01-21", "1985-02-20"}, Diff{2007, "2007-02-17", "2007-02-18"},
        Diff{2030, "2030-02-02", "2030-02-03"}, Diff{2053, "2053-02-18", "2053-02-19"}}) {
    EXPECT_EQ(Solar(vn, {d.year, 1, 1, false}), d.vietnam) << d.year;
    EXPECT_EQ(Solar(cn, {d.year, 1, 1, false}), d.china) << d.year;
  }
  // A new moon at 15:56 UT on 6 February 2027 starts the year on the same
  // day in both countries.
  EXPECT_EQ(Solar(vn, {2027, 1, 1, false}), "2027-02-06");
  EXPECT_EQ(Solar(cn, {2027, 1, 1, false}), "2027-02-06");
}

TEST(LunarCalendarTest, EveryDayRoundTrips) {
  const LunarCalendar vn;
  int months = 0;
  for (absl::CivilDay d(1901, 1, 1); d <= absl::CivilDay(2198, 12, 31); ++d) {
    auto lunar = vn.ToLunar(d);
    ASSERT_TRUE(lunar.ok()) << FormatDate(d);
    ASSERT_GE(lunar->day, 1) << FormatDate(d);
    ASSERT_LE(lunar->day, 30) << FormatDate(d);
    if (lunar->day == 1) ++months;
    auto back = vn.ToSolar(*lunar);
    ASSERT_TRUE(back.ok()) << FormatDate(d) << ": " << back.status();
    ASSERT_EQ(*back, d);
  }
  // 298 years of 365.2425 days in mean lunations of 29.530589 days.
  EXPECT_NEAR(months, 298 * 365.2425 / 29.530589, 2);
}

TEST(LunarCalendarTest, LeapMonths) {
  const LunarCalendar vn;
  // 2023 had a leap second month (tháng 2 nhuận): 22 March - 19 April.
  EXPECT_EQ(Solar(vn, {2023, 2, 1, true}), "2023-03-22");
  EXPECT_EQ(Solar(vn, {2023, 3, 1, false}), "2023-04-20");
  auto leap = vn.ToLunar(absl::CivilDay(2023, 4, 1));
  ASSERT_TRUE(leap.ok());
  EXPECT_EQ(*leap, (LunarDate{2023, 2, 11, true}));
  // 2025 had a leap sixth month; 2026 has none.
  EXPECT_EQ(Solar(vn, {2025, 6, 1, true}), "2025-07-25");
  EXPECT_EQ(vn.ToSolar({2026, 6, 1, true}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(vn.ToSolar({2023, 3, 1, true}).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(LunarCalendarTest, RefusesWhatDoesNotExist) {
  const LunarCalendar vn;
  EXPECT_EQ(vn.ToSolar({2026, 13, 1, false}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(vn.ToSolar({2026, 1, 0, false}).status().code(), absl::StatusCode::kInvalidArgument);
  // Tháng Chạp Ất Tỵ (2025) has 29 days: there is no 30th.
  EXPECT_EQ(vn.ToSolar({2025, 12, 30, false}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Solar(vn, {2025, 12, 29, false}), "2026-02-16");
  EXPECT_EQ(vn.ToSolar({1899, 1, 1, false}).status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(vn.ToSolar({2200, 1, 1, false}).status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(vn.ToLunar(absl::CivilDay(2200, 1, 1)).status().code(), absl::StatusCode::kOutOfRange);
}

}  // namespace
}  // namespace reception
