// The open statutory clocks of a node's cases, in memory, for the metrics:
// open and overdue cases per kind and step, computed at scrape time against
// the node's clock (so a case turns overdue on the day it does, without a
// write). No personal data: labels are the kind and the step.
#ifndef RECEPTION_SERVICES_CASE_DEADLINE_BOARD_H_
#define RECEPTION_SERVICES_CASE_DEADLINE_BOARD_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/civil_time.h"
#include "prometheus/collectable.h"
#include "reception/cases/v1/case.pb.h"
#include "services/case/subtree_board.h"
#include "services/common/clock.h"

namespace reception {

class DeadlineBoard final : public prometheus::Collectable {
 public:
  // `subtree`: told of every update too (oversight; may be null).
  explicit DeadlineBoard(const Clock* clock, SubtreeBoard* subtree = nullptr)
      : clock_(clock), subtree_(subtree) {}

  // Records the case's clocks as committed. Thread-safe.
  void Update(const cases::v1::Case& c);

  struct Count {
    std::string kind;
    std::string step;
    int64_t open = 0;
    int64_t overdue = 0;
  };
  // Per kind and step, on `today`. Thread-safe.
  std::vector<Count> Counts(absl::CivilDay today) const;

  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  struct Entry {
    int kind;
    int step;
    std::optional<absl::CivilDay> due;  // unset while paused
  };
  const Clock* clock_;
  SubtreeBoard* subtree_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::vector<Entry>> open_ ABSL_GUARDED_BY(mu_);
};

}  // namespace reception

#endif  // RECEPTION_SERVICES_CASE_DEADLINE_BOARD_H_
