// Legal rules as data with effective dates. The pack in force on the date of
// the triggering event applies; no legal number is a literal in logic.
#ifndef RECEPTION_SERVICES_COMMON_RULE_BOOK_H_
#define RECEPTION_SERVICES_COMMON_RULE_BOOK_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "reception/config/v1/config.pb.h"

namespace reception {

// Immutable after construction; safe to share between threads.
class RuleBook {
 public:
  using Pack = config::v1::RulePack;

  // Validates and orders the packs by effective date.
  static absl::StatusOr<RuleBook> FromProto(config::v1::RuleSet proto,
                                            absl::string_view source);
  static absl::StatusOr<RuleBook> LoadFile(const std::string& path);

  // The pack in force on `day`: FAILED_PRECONDITION when `day` precedes every
  // pack.
  absl::StatusOr<const Pack*> PackOn(absl::CivilDay day) const;

  // The pack with this id, or nullptr.
  const Pack* FindPack(absl::string_view id) const;

  // Most representatives a delegation of `people` may choose under `pack`;
  // -1 when no limit applies (not a mass case).
  static int MaxRepresentatives(const Pack& pack, int people);

 private:
  config::v1::RuleSet proto_;  // packs sorted by effective_from
};

}  // namespace reception

#endif  // RECEPTION_SERVICES_COMMON_RULE_BOOK_H_
