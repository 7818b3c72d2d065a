#include "services/common/civil_date.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "services/common/status.h"

namespace reception {

bool IsUnset(const type::v1::Date& date) {
  return date.year() == 0 && date.month() == 0 && date.day() == 0;
}

absl::StatusOr<absl::CivilDay> ToCivilDay(const type::v1::Date& date, absl::string_view field) {
  if (date.year() < 1900 || date.year() > 9999) {
    return InvalidField(absl::StrCat(field, ".year"), "must be between 1900 and 9999");
  }
  if (date.month() < 1 || date.month() > 12) {
    return InvalidField(absl::StrCat(field, ".month"), "must be between 1 and 12");
  }
  absl::CivilDay day(date.year(), date.month(), date.day());
  if (date.day() < 1 || day.day() != date.day() || day.month() != date.month()) {
    return InvalidField(absl::StrCat(field, ".day"),
                        absl::StrFormat("must be a day of %04d-%02d", date.year(), date.month()));
  }
  return day;
}

type::v1::Date ToProtoDate(absl::CivilDay day) {
  type::v1::Date d;
  d.set_year(static_cast<int32_t>(day.year()));
  d.set_month(day.month());
  d.set_day(day.day());
  return d;
}

std::string FormatDate(absl::CivilDay day) {
  return absl::StrFormat("%04d-%02d-%02d", day.year(), day.month(), day.day());
}

std::string FormatDate(const type::v1::Date& date) {
  return absl::StrFormat("%04d-%02d-%02d", date.year(), date.month(), date.day());
}

absl::StatusOr<absl::CivilDay> ParseDate(absl::string_view text) {
  int y = 0, m = 0, d = 0;
  if (text.size() != 10 || text[4] != '-' || text[7] != '-' ||
      !absl::SimpleAtoi(text.substr(0, 4), &y) || !absl::SimpleAtoi(text.substr(5, 2), &m) ||
      !absl::SimpleAtoi(text.substr(8, 2), &d)) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", text, "\" is not a date of the form YYYY-MM-DD"));
  }
  type::v1::Date date;
  date.set_year(y);
  date.set_month(m);
  date.set_day(d);
  auto day = ToCivilDay(date, "date");
  if (!day.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("\"", text, "\" is not a valid calendar date"));
  }
  return day;
}

}  // namespace reception
