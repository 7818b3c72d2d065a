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

// Among `rules` that pass `applies`, the most specific for a case of `kind`
// and complaint `round` (unspecified = first): a rule naming the kind beats
// one for every kind, and one naming the round beats one for both rounds.
// nullptr when none fits. Rules need kind() and complaint_round().
template <typename Rule, typename Pred>
const Rule* MostSpecificRule(const google::protobuf::RepeatedPtrField<Rule>& rules,
                             cases::v1::CaseKind kind, cases::v1::ComplaintRound round,
                             Pred applies) {
  if (round == cases::v1::COMPLAINT_ROUND_UNSPECIFIED) round = cases::v1::COMPLAINT_ROUND_FIRST;
  const Rule* best = nullptr;
  int best_score = -1;
  for (const Rule& r : rules) {
    if (!applies(r)) continue;
    int score = 0;
    if (r.kind() != cases::v1::CASE_KIND_UNSPECIFIED) {
      if (r.kind() != kind) continue;
      score += 2;
    }
    if (r.complaint_round() != cases::v1::COMPLAINT_ROUND_UNSPECIFIED) {
      if (kind != cases::v1::CASE_KIND_COMPLAINT || r.complaint_round() != round) continue;
      score += 1;
    }
    if (score > best_score) {
      best = &r;
      best_score = score;
    }
  }
  return best;
}

// Immutable after construction; safe to share between threads.
class RuleBook {
 public:
  using Pack = config::v1::RulePack;

  // Validates and orders the packs by effective date.
  static absl::StatusOr<RuleBook> FromProto(config::v1::RuleSet proto, absl::string_view source);
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
