#include "services/common/sequence_watch.h"

#include <utility>
#include <vector>

namespace reception {

SequenceWatch::SequenceWatch(uint64_t head) : head_(head) {
  thread_ = std::thread([this] { Loop(); });
}

SequenceWatch::~SequenceWatch() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    waiters_.clear();
  }
  thread_.join();
}

void SequenceWatch::Advance(uint64_t sequence) {
  absl::MutexLock lock(&mu_);
  if (sequence > head_) head_ = sequence;
}

uint64_t SequenceWatch::head() const {
  absl::MutexLock lock(&mu_);
  return head_;
}

SequenceWatch::Id SequenceWatch::Await(uint64_t after, absl::Time deadline,
                                       absl::AnyInvocable<void(bool)> fn) {
  absl::MutexLock lock(&mu_);
  const Id id = next_id_++;
  waiters_.emplace(id, Waiter{after, deadline, std::move(fn)});
  return id;
}

bool SequenceWatch::Cancel(Id id) {
  absl::MutexLock lock(&mu_);
  return waiters_.erase(id) > 0;
}

void SequenceWatch::Loop() {
  for (;;) {
    std::vector<std::pair<absl::AnyInvocable<void(bool)>, bool>> ready;
    {
      absl::MutexLock lock(&mu_);
      // Wakes when stopping, when a waiter is ready, or at the earliest
      // deadline (re-evaluated whenever the state changes).
      auto something_ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        if (stopping_) return true;
        const absl::Time now = absl::Now();
        for (const auto& [id, w] : waiters_) {
          if (head_ > w.after || w.deadline <= now) return true;
        }
        return false;
      };
      absl::Time earliest = absl::InfiniteFuture();
      for (const auto& [id, w] : waiters_) earliest = std::min(earliest, w.deadline);
      mu_.AwaitWithDeadline(absl::Condition(&something_ready),
                            std::min(earliest, absl::Now() + absl::Milliseconds(200)));
      if (stopping_) return;
      const absl::Time now = absl::Now();
      for (auto it = waiters_.begin(); it != waiters_.end();) {
        const bool advanced = head_ > it->second.after;
        if (advanced || it->second.deadline <= now) {
          ready.emplace_back(std::move(it->second.fn), advanced);
          it = waiters_.erase(it);
        } else {
          ++it;
        }
      }
    }
    for (auto& [fn, advanced] : ready) fn(advanced);
  }
}

}  // namespace reception
