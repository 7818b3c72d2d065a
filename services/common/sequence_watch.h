// A durable position that readers wait on: the head of a change feed,
// advanced as each mutation becomes durable, and callbacks that run once
// the head passes a cursor or a deadline passes (whichever comes first), on
// the watch's own thread. A streaming reader that has caught up waits here
// instead of polling, and still wakes for its heartbeat.
#ifndef RECEPTION_SERVICES_COMMON_SEQUENCE_WATCH_H_
#define RECEPTION_SERVICES_COMMON_SEQUENCE_WATCH_H_

#include <cstdint>
#include <map>
#include <thread>

#include "absl/functional/any_invocable.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace reception {

class SequenceWatch {
 public:
  using Id = uint64_t;

  explicit SequenceWatch(uint64_t head);
  // Drops the waiting callbacks unrun, then joins the thread.
  ~SequenceWatch();
  SequenceWatch(const SequenceWatch&) = delete;
  SequenceWatch& operator=(const SequenceWatch&) = delete;

  // The head is at least `sequence` (it never moves back).
  void Advance(uint64_t sequence);
  uint64_t head() const;

  // Runs `fn(true)` once the head is past `after`, or `fn(false)` at
  // `deadline`, on the watch's thread; at once (on that thread) if the head
  // is already past. Thread-safe.
  Id Await(uint64_t after, absl::Time deadline, absl::AnyInvocable<void(bool advanced)> fn);
  // True when the callback had not started and now never will.
  bool Cancel(Id id);

 private:
  struct Waiter {
    uint64_t after;
    absl::Time deadline;
    absl::AnyInvocable<void(bool)> fn;
  };
  void Loop();

  mutable absl::Mutex mu_;
  uint64_t head_ ABSL_GUARDED_BY(mu_);
  Id next_id_ ABSL_GUARDED_BY(mu_) = 1;
  std::map<Id, Waiter> waiters_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace reception

#endif  // RECEPTION_SERVICES_COMMON_SEQUENCE_WATCH_H_
