// The administrative tree as data: units with levels, parents, remote-area
// flags, validity dates and merge successors, loaded from a topology file.
#ifndef RECEPTION_SERVICES_COMMON_TOPOLOGY_H_
#define RECEPTION_SERVICES_COMMON_TOPOLOGY_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "reception/config/v1/config.pb.h"

namespace reception {

// Immutable after construction; safe to share between threads.
class Topology {
 public:
  using Unit = config::v1::AdministrativeUnit;

  // Validates the tree: unique codes, known parents and successors, no cycles,
  // children at a lower level than their parent, valid_from <= valid_to.
  static absl::StatusOr<Topology> FromProto(config::v1::Topology proto, absl::string_view source);
  static absl::StatusOr<Topology> LoadFile(const std::string& path);

  const std::string& name() const { return proto_.name(); }
  size_t size() const { return by_code_.size(); }

  // The unit with this code, whatever its validity; nullptr if unknown.
  const Unit* Find(absl::string_view code) const;

  // The unit as it existed on `day`: NOT_FOUND if the code is unknown,
  // FAILED_PRECONDITION if it did not exist that day (naming its successor).
  // `field` names the request field in errors.
  absl::StatusOr<const Unit*> FindOn(absl::string_view code, absl::CivilDay day,
                                     absl::string_view field) const;

  // The unit `code` is on `day`: itself if it existed then, else the unit it
  // was merged into (followed through successive merges). NOT_FOUND for an
  // unknown code; FAILED_PRECONDITION when nothing it became existed then.
  absl::StatusOr<const Unit*> InForce(absl::string_view code, absl::CivilDay day,
                                      absl::string_view field = "unit") const;

  // The lowest unit that is `a`, `b` or an ancestor of both, every unit of
  // both chains taken as it was on `day` (a dissolved unit or parent by its
  // successor). FAILED_PRECONDITION when the two share no ancestor.
  absl::StatusOr<std::string> CommonAncestor(absl::string_view a, absl::string_view b,
                                             absl::CivilDay day) const;

  // True when `code` is `ancestor` or lies below it.
  bool IsWithin(absl::string_view code, absl::string_view ancestor) const;

  // Codes of the direct children of `code`.
  std::vector<std::string> Children(absl::string_view code) const;

  // Every unit, in the file's order.
  const google::protobuf::RepeatedPtrField<Unit>& units() const { return proto_.units(); }

 private:
  config::v1::Topology proto_;
  absl::flat_hash_map<std::string, int> by_code_;  // code -> index in proto_
};

}  // namespace reception

#endif  // RECEPTION_SERVICES_COMMON_TOPOLOGY_H_
