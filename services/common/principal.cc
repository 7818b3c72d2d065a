#include "services/common/principal.h"

namespace reception {

absl::string_view RoleName(Role role) {
  switch (role) {
    case Role::kReceptionOfficer:
      return "officer";
    case Role::kInspector:
      return "inspector";
    case Role::kHead:
      return "head";
    case Role::kViewer:
      return "viewer";
    case Role::kNode:
      return "node";
  }
  return "viewer";
}

std::optional<Role> ParseRole(absl::string_view name) {
  for (Role r :
       {Role::kReceptionOfficer, Role::kInspector, Role::kHead, Role::kViewer, Role::kNode}) {
    if (RoleName(r) == name) return r;
  }
  return std::nullopt;
}

}  // namespace reception
