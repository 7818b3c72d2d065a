// Who is calling: every request carries a principal. How it is established
// (development metadata today, mTLS and tokens later) is the authenticator's
// business; the services only see this struct.
#ifndef RECEPTION_SERVICES_COMMON_PRINCIPAL_H_
#define RECEPTION_SERVICES_COMMON_PRINCIPAL_H_

#include <optional>
#include <string>
#include <string_view>

#include "absl/strings/string_view.h"

namespace reception {

enum class Role {
  kReceptionOfficer,  // receives citizens, registers and routes matters
  kInspector,         // verifies matters; may reveal protected identities
  kHead,              // head of the unit: decides, refuses, presides
  kViewer,            // read-only (auditors, dashboards)
  kNode,              // another node of the federation
};

struct Principal {
  std::string subject;  // account or node name
  Role role = Role::kViewer;
  std::string unit_code;  // the caller's administrative unit
};

absl::string_view RoleName(Role role);
std::optional<Role> ParseRole(absl::string_view name);

inline bool CanChangeCases(const Principal& p) {
  return p.role == Role::kReceptionOfficer || p.role == Role::kInspector || p.role == Role::kHead;
}

}  // namespace reception

#endif  // RECEPTION_SERVICES_COMMON_PRINCIPAL_H_
