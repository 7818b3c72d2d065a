// The hash chain over a case's audit trail: each event's hash covers its
// content and the previous event's hash, so altering, removing or reordering
// any event is detected.
#ifndef RECEPTION_SERVICES_CASE_AUDIT_CHAIN_H_
#define RECEPTION_SERVICES_CASE_AUDIT_CHAIN_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "reception/cases/v1/case.pb.h"

namespace reception {

// Hex SHA-256 of `bytes` (libsodium).
std::string Sha256Hex(absl::string_view bytes);

// Hex SHA-256 of the event's deterministic serialization with `hash` cleared
// (previous_hash is inside, which links the chain).
std::string HashCaseEvent(const cases::v1::CaseEvent& event);

// Sets previous_hash and hash of `event` to follow `previous_hash`.
void SealCaseEvent(const std::string& previous_hash, cases::v1::CaseEvent* event);

struct ChainCheck {
  bool valid = true;
  int64_t first_invalid_sequence = 0;
  std::string problem;
  std::string head_hash;
};

// Checks events in order against each other and against the case's recorded
// head hash and length.
ChainCheck CheckCaseChain(const std::vector<cases::v1::CaseEvent>& events,
                          const std::string& expected_head, int64_t expected_length);

}  // namespace reception

#endif  // RECEPTION_SERVICES_CASE_AUDIT_CHAIN_H_
