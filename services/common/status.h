// Status helpers shared by the domain libraries. Messages are written for the
// person who must act on them: they name the field path and the rule.
#ifndef RECEPTION_SERVICES_COMMON_STATUS_H_
#define RECEPTION_SERVICES_COMMON_STATUS_H_

#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace reception {

// INVALID_ARGUMENT: "<field> <rule>", e.g. "case.content must not be empty".
inline absl::Status InvalidField(absl::string_view field, absl::string_view rule) {
  return absl::InvalidArgumentError(absl::StrCat(field, " ", rule));
}

}  // namespace reception

// Evaluates an expression returning absl::Status; returns it if not OK.
#define RECEPTION_RETURN_IF_ERROR(expr) \
  do {                                  \
    ::absl::Status _status = (expr);    \
    if (!_status.ok()) return _status;  \
  } while (0)

#define RECEPTION_CONCAT_INNER(a, b) a##b
#define RECEPTION_CONCAT(a, b) RECEPTION_CONCAT_INNER(a, b)
// Assigns the value of an absl::StatusOr expression to lhs or returns its
// status.
#define RECEPTION_ASSIGN_OR_RETURN(lhs, expr) \
  RECEPTION_ASSIGN_OR_RETURN_IMPL(RECEPTION_CONCAT(_status_or_, __LINE__), lhs, expr)
#define RECEPTION_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                    \
  if (!tmp.ok()) return tmp.status();                   \
  lhs = std::move(*tmp)

#endif  // RECEPTION_SERVICES_COMMON_STATUS_H_
