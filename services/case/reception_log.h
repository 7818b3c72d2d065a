// The reception log (sổ tiếp công dân, Circular 04/2021 form 03) as CSV.
#ifndef RECEPTION_SERVICES_CASE_RECEPTION_LOG_H_
#define RECEPTION_SERVICES_CASE_RECEPTION_LOG_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/string_view.h"
#include "reception/cases/v1/case.pb.h"

namespace reception {

// RFC 4180 CSV with a Vietnamese header row, one row per case in the given
// order. Protected identities read "(bảo mật)"; cells that a spreadsheet
// would run as a formula are prefixed with an apostrophe.
std::string RenderReceptionLog(const std::vector<cases::v1::Case>& rows);

// One CSV field, quoted when needed.
std::string CsvField(absl::string_view value);

}  // namespace reception

#endif  // RECEPTION_SERVICES_CASE_RECEPTION_LOG_H_
