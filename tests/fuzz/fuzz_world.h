// What the fuzz targets drive: the case service's domain (CaseRegistry) on a
// real RocksDB store in a temp dir, with the shipped topology, rule packs and
// calendar, a fixed clock, and the node key a handoff is sealed for. No gRPC:
// these are the same calls the gRPC edge makes after authentication.
#ifndef RECEPTION_TESTS_FUZZ_FUZZ_WORLD_H_
#define RECEPTION_TESTS_FUZZ_FUZZ_WORLD_H_

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "services/case/case_registry.h"
#include "services/common/clock.h"
#include "services/common/test_support.h"
#include "services/documents/form_book.h"

namespace reception::fuzz {

// Stops the run (libFuzzer keeps the input as a crash) when `ok` is false.
inline void Require(bool ok, const char* what, const absl::Status& s = absl::OkStatus()) {
  if (ok) return;
  std::fprintf(stderr, "fuzz invariant broken: %s %s\n", what, s.ToString().c_str());
  std::abort();
}

// A client's request must never get an answer that says the node broke:
// INTERNAL, UNKNOWN and DATA_LOSS are for the node's own faults.
inline void RequireClientError(const absl::Status& s, const char* method) {
  const bool internal = s.code() == absl::StatusCode::kInternal ||
                        s.code() == absl::StatusCode::kUnknown ||
                        s.code() == absl::StatusCode::kDataLoss;
  Require(!internal, method, s);
}

// The shipped data the targets build on, loaded once (the run stops if it
// does not load): both topologies, the rule packs and the calendar.
struct Shipped {
  std::unique_ptr<Topology> da_nang, quang_nam;
  std::unique_ptr<RuleBook> rules;
  std::unique_ptr<WorkingCalendar> calendar;
  std::unique_ptr<documents::FormBook> forms;
};
const Shipped& ShippedData();

// FUZZ_VERBOSE=1: prints each answer, to see what a corpus reaches.
void Verbose(const char* what, const absl::Status& s);

// Parses the fuzzer's `bytes` into `m`: merged into the valid request `m`
// holds (most fields stay sensible, so the rules behind the first check are
// reached), or, `merge` false, alone. False when the bytes do not parse.
template <typename M>
bool Fill(M& m, const std::string& bytes, bool merge) {
  if (!merge) m.Clear();
  return m.MergeFromString(bytes);
}

// One node's case registry and everything it is built from.
class CaseNode {
 public:
  // A node of `unit` (Đà Nẵng's two-level topology) federating with `peers`.
  CaseNode(const std::string& unit, std::vector<std::string> peers);
  ~CaseNode();
  CaseRegistry& registry() { return *registry_; }
  const NodeKey& node_key() const { return *node_key_; }

 private:
  reception::testing::TempDir dir_;
  FakeClock clock_;
  std::unique_ptr<DeadlineEngine> deadlines_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<IdentityVault> vault_;
  std::unique_ptr<NodeKey> node_key_;
  std::unique_ptr<CaseRegistry> registry_;
};

// A valid first-time complaint (or named denunciation) for unit 48.
cases::v1::CreateCaseRequest ValidCase(const std::string& request_id, bool denunciation);

// Runs a registry mutation and waits for its answer.
template <typename T, typename Call>
absl::StatusOr<T> Run(Call call) {
  return reception::testing::Await<T>(std::move(call));
}

}  // namespace reception::fuzz

#endif  // RECEPTION_TESTS_FUZZ_FUZZ_WORLD_H_
