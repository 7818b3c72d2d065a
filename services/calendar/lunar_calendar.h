// The Vietnamese lunisolar calendar (âm lịch), computed: lunar months start
// on the day of the astronomical new moon and the month holding the winter
// solstice is the 11th, both judged at the meridian of the country's standard
// time. Vietnam has counted at UTC+7 since 1968 (North) / 1975 (South);
// China counts at UTC+8, so the two calendars differ in some years (Tết 1985,
// 2007, 2030, 2053).
//
// The method is the published astronomical one:
//   - mean new moons with the periodic corrections of J. Meeus, "Astronomical
//     Formulae for Calculators" (1979) ch. 32 and "Astronomical Algorithms"
//     (1991) ch. 47, with ΔT;
//   - the Sun's apparent longitude of "Astronomical Algorithms" ch. 24
//     (low precision, ~0.01°);
//   - the calendar rules as set out by Hồ Ngọc Đức, "Thuật toán tính âm
//     lịch" (the month with the winter solstice is month 11; in a year of 13
//     months the first month without a major solar term is the leap month).
// Valid 1900-2199. Pure and thread-safe; no tables.
#ifndef RECEPTION_SERVICES_CALENDAR_LUNAR_CALENDAR_H_
#define RECEPTION_SERVICES_CALENDAR_LUNAR_CALENDAR_H_

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"

namespace reception {

struct LunarDate {
  int year = 0;       // the lunar year, named by the Gregorian year its first day falls in
  int month = 0;      // 1..12
  int day = 0;        // 1..30
  bool leap = false;  // the intercalary (nhuận) month that repeats `month`
  bool operator==(const LunarDate& o) const {
    return year == o.year && month == o.month && day == o.day && leap == o.leap;
  }
};

class LunarCalendar {
 public:
  static constexpr int kFirstYear = 1900;
  static constexpr int kLastYear = 2199;

  // Vietnam's calendar: UTC+7. Other offsets exist for tests (UTC+8 gives
  // the Chinese calendar).
  explicit LunarCalendar(double utc_offset_hours = 7.0) : tz_(utc_offset_hours) {}

  // The solar day of a lunar date. INVALID_ARGUMENT for a month that is not
  // leap that year or a day past the month's end; OUT_OF_RANGE outside
  // 1900-2199.
  absl::StatusOr<absl::CivilDay> ToSolar(const LunarDate& lunar) const;

  // The lunar date of a solar day; OUT_OF_RANGE outside 1900-2199.
  absl::StatusOr<LunarDate> ToLunar(absl::CivilDay day) const;

  // The first day of lunar year `year` (Tết Nguyên Đán).
  absl::StatusOr<absl::CivilDay> NewYear(int year) const {
    return ToSolar(LunarDate{year, 1, 1, false});
  }

 private:
  long NewMoonDay(long k) const;
  int SunSector(long day_number) const;
  long Month11(int year) const;
  int LeapMonthOffset(long month11_day) const;

  double tz_;
};

}  // namespace reception

#endif  // RECEPTION_SERVICES_CALENDAR_LUNAR_CALENDAR_H_
