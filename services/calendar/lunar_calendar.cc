#include "services/calendar/lunar_calendar.h"

#include <cmath>

#include "absl/strings/str_cat.h"

namespace reception {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kRad = kPi / 180.0;
// The first mean new moon of the series (k = 0), 1900-01-01 13:52 UT, as a
// Julian day, and the mean synodic month.
constexpr double kNewMoonEpoch = 2415021.076998695;
constexpr double kSynodicMonth = 29.530588853;

long Floor(double x) { return static_cast<long>(std::floor(x)); }

// Julian day number of a civil day (noon-based count, as astronomers use).
long JulianDayNumber(absl::CivilDay day) { return (day - absl::CivilDay(1970, 1, 1)) + 2440588; }
absl::CivilDay FromJulianDayNumber(long jdn) {
  return absl::CivilDay(1970, 1, 1) + (jdn - 2440588);
}

// The Julian day (UT) of the k-th new moon after the epoch: the mean phase
// with Meeus' periodic terms for the Sun's and the Moon's anomalies and the
// Moon's argument of latitude, less ΔT.
double NewMoon(long k) {
  const double t = static_cast<double>(k) / 1236.85;  // Julian centuries from 1900
  const double t2 = t * t;
  const double t3 = t2 * t;
  double jd =
      2415020.75933 + 29.53058868 * static_cast<double>(k) + 0.0001178 * t2 - 0.000000155 * t3;
  jd += 0.00033 * std::sin((166.56 + 132.87 * t - 0.009173 * t2) * kRad);
  const double m =
      359.2242 + 29.10535608 * static_cast<double>(k) - 0.0000333 * t2 - 0.00000347 * t3;
  const double mp =
      306.0253 + 385.81691806 * static_cast<double>(k) + 0.0107306 * t2 + 0.00001236 * t3;
  const double f =
      21.2964 + 390.67050646 * static_cast<double>(k) - 0.0016528 * t2 - 0.00000239 * t3;
  // One periodic term a line, signed as in Meeus' table.
  double c = (0.1734 - 0.000393 * t) * std::sin(m * kRad);
  c += 0.0021 * std::sin(2 * m * kRad);
  c -= 0.4068 * std::sin(mp * kRad);
  c += 0.0161 * std::sin(2 * mp * kRad);
  c -= 0.0004 * std::sin(3 * mp * kRad);
  c += 0.0104 * std::sin(2 * f * kRad);
  c -= 0.0051 * std::sin((m + mp) * kRad);
  c -= 0.0074 * std::sin((m - mp) * kRad);
  c += 0.0004 * std::sin((2 * f + m) * kRad);
  c -= 0.0004 * std::sin((2 * f - m) * kRad);
  c -= 0.0006 * std::sin((2 * f + mp) * kRad);
  c += 0.0010 * std::sin((2 * f - mp) * kRad);
  c += 0.0005 * std::sin((2 * mp + m) * kRad);
  const double delta_t =
      t < -11 ? 0.001 + 0.000839 * t + 0.0002261 * t2 - 0.00000845 * t3 - 0.000000081 * t * t3
              : -0.000278 + 0.000265 * t + 0.000262 * t2;
  return jd + c - delta_t;
}

// The Sun's apparent longitude in radians, [0, 2π), at Julian day `jd` (UT).
double SunLongitude(double jd) {
  const double t = (jd - 2451545.0) / 36525;  // Julian centuries from J2000
  const double t2 = t * t;
  const double m = 357.52910 + 35999.05030 * t - 0.0001559 * t2 - 0.00000048 * t * t2;
  const double l0 = 280.46645 + 36000.76983 * t + 0.0003032 * t2;
  double dl = (1.914600 - 0.004817 * t - 0.000014 * t2) * std::sin(kRad * m);
  dl += (0.019993 - 0.000101 * t) * std::sin(2 * kRad * m) + 0.000290 * std::sin(3 * kRad * m);
  double l = (l0 + dl) * kRad;
  l -= 2 * kPi * std::floor(l / (2 * kPi));
  return l;
}

absl::Status OutOfRange(int year) {
  return absl::OutOfRangeError(
      absl::StrCat("the lunar calendar is computed for ", LunarCalendar::kFirstYear, "-",
                   LunarCalendar::kLastYear, " only (asked for ", year, ")"));
}

}  // namespace

// The local day on which the k-th new moon falls.
long LunarCalendar::NewMoonDay(long k) const { return Floor(NewMoon(k) + 0.5 + tz_ / 24); }

// Which 30° sector (0..11; 9 holds the winter solstice) the Sun is in at the
// local midnight that starts `day_number`.
int LunarCalendar::SunSector(long day_number) const {
  return static_cast<int>(
      Floor(SunLongitude(static_cast<double>(day_number) - 0.5 - tz_ / 24) / kPi * 6));
}

// The first day of the lunar month holding the winter solstice of `year`.
long LunarCalendar::Month11(int year) const {
  const long off = JulianDayNumber(absl::CivilDay(year, 12, 31)) - 2415021;
  const long k = Floor(static_cast<double>(off) / kSynodicMonth);
  long start = NewMoonDay(k);
  // The last new moon of the year came after the solstice: month 11 began
  // one new moon earlier.
  if (SunSector(start) >= 9) start = NewMoonDay(k - 1);
  return start;
}

// In a year of 13 months, how many months after month 11 the leap month
// comes: the first month in which the Sun enters no new sector (no major
// solar term).
int LunarCalendar::LeapMonthOffset(long month11_day) const {
  const long k = Floor((static_cast<double>(month11_day) - kNewMoonEpoch) / kSynodicMonth + 0.5);
  int i = 1;
  int arc = SunSector(NewMoonDay(k + i));
  int last = 0;
  do {
    last = arc;
    ++i;
    arc = SunSector(NewMoonDay(k + i));
  } while (arc != last && i < 14);
  return i - 1;
}

absl::StatusOr<absl::CivilDay> LunarCalendar::ToSolar(const LunarDate& lunar) const {
  if (lunar.year < kFirstYear || lunar.year > kLastYear) return OutOfRange(lunar.year);
  if (lunar.month < 1 || lunar.month > 12) {
    return absl::InvalidArgumentError(absl::StrCat("lunar month ", lunar.month, " is not 1-12"));
  }
  if (lunar.day < 1 || lunar.day > 30) {
    return absl::InvalidArgumentError(absl::StrCat("lunar day ", lunar.day, " is not 1-30"));
  }
  // Months 11 and 12 belong to the lunar year that began in January of
  // `year`, but are counted from that year's own month 11.
  long a11, b11;
  if (lunar.month < 11) {
    a11 = Month11(lunar.year - 1);
    b11 = Month11(lunar.year);
  } else {
    a11 = Month11(lunar.year);
    b11 = Month11(lunar.year + 1);
  }
  const long k = Floor(0.5 + (static_cast<double>(a11) - kNewMoonEpoch) / kSynodicMonth);
  int off = lunar.month - 11;
  if (off < 0) off += 12;
  if (b11 - a11 > 365) {
    const int leap_off = LeapMonthOffset(a11);
    int leap_month = leap_off - 2;
    if (leap_month < 0) leap_month += 12;
    if (lunar.leap && lunar.month != leap_month) {
      return absl::InvalidArgumentError(
          absl::StrCat("lunar year ", lunar.year, " has no leap month ", lunar.month));
    }
    if (lunar.leap || off >= leap_off) ++off;
  } else if (lunar.leap) {
    return absl::InvalidArgumentError(
        absl::StrCat("lunar year ", lunar.year, " has no leap month"));
  }
  const long start = NewMoonDay(k + off);
  const long length = NewMoonDay(k + off + 1) - start;
  if (lunar.day > length) {
    return absl::InvalidArgumentError(
        absl::StrCat("lunar month ", lunar.month, " of ", lunar.year, " has ", length, " days"));
  }
  return FromJulianDayNumber(start + lunar.day - 1);
}

absl::StatusOr<LunarDate> LunarCalendar::ToLunar(absl::CivilDay day) const {
  const int yy = static_cast<int>(day.year());
  if (yy < kFirstYear || yy > kLastYear) return OutOfRange(yy);
  const long n = JulianDayNumber(day);
  // The mean lunation only estimates which new moon began the month; step
  // back until the month starts on or before the day (the true new moon can
  // come more than half a day after the mean one).
  long k = Floor((static_cast<double>(n) - kNewMoonEpoch) / kSynodicMonth) + 1;
  long month_start = NewMoonDay(k);
  while (month_start > n) month_start = NewMoonDay(--k);
  long a11 = Month11(yy);
  long b11 = a11;
  LunarDate out;
  if (a11 >= month_start) {
    out.year = yy;
    a11 = Month11(yy - 1);
  } else {
    out.year = yy + 1;
    b11 = Month11(yy + 1);
  }
  out.day = static_cast<int>(n - month_start + 1);
  const int diff = static_cast<int>(Floor(static_cast<double>(month_start - a11) / 29));
  out.month = diff + 11;
  if (b11 - a11 > 365) {
    const int leap_diff = LeapMonthOffset(a11);
    if (diff >= leap_diff) {
      out.month = diff + 10;
      out.leap = diff == leap_diff;
    }
  }
  if (out.month > 12) out.month -= 12;
  if (out.month >= 11 && diff < 4) out.year -= 1;
  return out;
}

}  // namespace reception
