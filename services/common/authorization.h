// Who may call what: ONE table of method x role x relation of the caller's
// unit to this node's unit, default deny. Enforced for every call before a
// handler runs (Authenticator::Authenticate, given the method by the
// server's interceptor); handlers then apply the finer rules that depend on
// the record (the state of a case, the participant of a room, the peer of a
// handoff). The README's "Who may do what" is this table.
#ifndef RECEPTION_SERVICES_COMMON_AUTHORIZATION_H_
#define RECEPTION_SERVICES_COMMON_AUTHORIZATION_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "services/common/principal.h"
#include "services/common/topology.h"

namespace reception {

// How the caller's unit stands to the unit whose node answers.
enum class Relation : uint8_t {
  kSame = 1,       // the node's own unit
  kBelow = 2,      // a unit below it (a commune bridge point without a node of its own)
  kAbove = 4,      // an ancestor: oversight (district over commune, province over all)
  kUnrelated = 8,  // anything else, including units not in the topology
};

Relation RelationOf(const Topology& topology, absl::string_view caller_unit,
                    absl::string_view node_unit);
absl::string_view RelationName(Relation r);

struct AccessRule {
  const char* method;    // "reception.cases.v1.CaseService/CreateCase"
  uint8_t people_roles;  // bits of RoleBit() for officer, inspector, head, viewer
  uint8_t relations;     // bits of Relation for those people
  bool nodes;            // role node (any unit; handlers check the peer)
  const char* why;       // one line for the README
  // Public: no principal is asked for (the request carries its own proof,
  // e.g. a receipt code) and the handler limits the rate.
  bool open = false;
};

inline constexpr uint8_t RoleBit(Role r) { return static_cast<uint8_t>(1u << static_cast<int>(r)); }

// The whole table, in service order.
const std::vector<AccessRule>& AccessTable();
// The rule of "pkg.Service/Method" (with or without a leading '/'); nullptr
// when there is none (the call is then refused).
const AccessRule* FindAccessRule(absl::string_view method);

// Methods that are not the project's API and need no principal (gRPC health
// and reflection).
bool IsInfrastructureMethod(absl::string_view method);

// OK, or PERMISSION_DENIED naming the method, the role and the relation.
absl::Status Authorize(absl::string_view method, const Principal& p, const Topology& topology,
                       absl::string_view node_unit);

// The table as Markdown (for the README; a test keeps the README equal).
std::string AccessTableMarkdown();

// Server metadata key the interceptor sets to the called method (any value a
// client sent under it is removed first).
inline constexpr char kMethodMetadata[] = "x-reception-method";

}  // namespace reception

#endif  // RECEPTION_SERVICES_COMMON_AUTHORIZATION_H_
