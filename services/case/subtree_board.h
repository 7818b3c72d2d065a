// What a parent watches of its subtree, in memory, for the metrics and the
// oversight page: per unit (the owner of each case), the open cases, those
// overdue and those at risk (due within kAtRiskWorkingDays working days),
// and per holder the oldest handoff not yet taken up by its destination.
// Fed by every committed record of this node's own and every replica
// applied, each case counted once (the newer record; this node's own when it
// owns the case). Computed at scrape time against the node's clock. No
// personal data: the only label is a unit code.
#ifndef RECEPTION_SERVICES_CASE_SUBTREE_BOARD_H_
#define RECEPTION_SERVICES_CASE_SUBTREE_BOARD_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/civil_time.h"
#include "prometheus/collectable.h"
#include "reception/cases/v1/case.pb.h"
#include "services/calendar/deadline_engine.h"
#include "services/common/clock.h"
#include "services/common/topology.h"

namespace reception {

class SubtreeBoard final : public prometheus::Collectable {
 public:
  static constexpr int kAtRiskWorkingDays = 5;

  // `deadlines` may be null (no at-risk figures then).
  SubtreeBoard(const Clock* clock, const DeadlineEngine* deadlines, const Topology* topology,
               std::string unit_code)
      : clock_(clock), deadlines_(deadlines), topology_(topology), unit_(std::move(unit_code)) {}

  // What the board keeps of one record.
  struct Entry {
    int64_t epoch = 0;
    int64_t version = 0;
    bool own_owned = false;  // this node's own record of a case it owns
    std::string owner;
    std::string holder;  // whose record it is
    bool open = false;
    std::optional<absl::CivilDay> due;
    absl::Time updated;
  };
  // A record as committed: this node's own, or a replica. Thread-safe.
  void Update(const cases::v1::Case& c, bool replica);
  // The same in two steps: the summary taken where the record is at hand
  // (a few fields, not a copy of the case), applied once it is durable.
  Entry Summarize(const cases::v1::Case& c, bool replica) const;
  void Put(const std::string& number, Entry e);

  struct UnitCounts {
    std::string unit;
    int64_t open = 0;
    int64_t overdue = 0;
    int64_t at_risk = 0;
    // Handoffs this unit made that their destination has not published.
    int64_t pending_handoffs = 0;
    int64_t oldest_pending_handoff_seconds = 0;
  };
  // Per unit with anything to say, in unit order, on the node's today.
  std::vector<UnitCounts> Counts() const;

  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  const Clock* clock_;
  const DeadlineEngine* deadlines_;
  const Topology* topology_;
  const std::string unit_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, Entry> cases_ ABSL_GUARDED_BY(mu_);
};

}  // namespace reception

#endif  // RECEPTION_SERVICES_CASE_SUBTREE_BOARD_H_
