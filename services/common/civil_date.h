// Conversions between the API's reception.type.v1.Date and absl::CivilDay.
#ifndef RECEPTION_SERVICES_COMMON_CIVIL_DATE_H_
#define RECEPTION_SERVICES_COMMON_CIVIL_DATE_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "reception/type/v1/types.pb.h"

namespace reception {

// True when no part of the date is set (the proto default).
bool IsUnset(const type::v1::Date& date);

// Validates a set date and converts it; `field` names it in the error.
absl::StatusOr<absl::CivilDay> ToCivilDay(const type::v1::Date& date, absl::string_view field);

type::v1::Date ToProtoDate(absl::CivilDay day);

// "2026-07-01".
std::string FormatDate(absl::CivilDay day);
std::string FormatDate(const type::v1::Date& date);

// Parses "YYYY-MM-DD" strictly.
absl::StatusOr<absl::CivilDay> ParseDate(absl::string_view text);

}  // namespace reception

#endif  // RECEPTION_SERVICES_COMMON_CIVIL_DATE_H_
