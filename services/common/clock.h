// Injected time. Production code asks a Clock; tests move a FakeClock.
#ifndef RECEPTION_SERVICES_COMMON_CLOCK_H_
#define RECEPTION_SERVICES_COMMON_CLOCK_H_

#include "absl/synchronization/mutex.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace reception {

// Vietnam has kept UTC+7 without daylight saving since 1975; a fixed zone
// avoids depending on tzdata being installed in a container.
inline absl::TimeZone VietnamTimeZone() { return absl::FixedTimeZone(7 * 60 * 60); }

// Thread-safe source of the current time.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;
  // Today's civil date in Asia/Ho_Chi_Minh.
  absl::CivilDay Today() const { return absl::ToCivilDay(Now(), VietnamTimeZone()); }
};

class SystemClock final : public Clock {
 public:
  absl::Time Now() const override { return absl::Now(); }
};

// A clock that only moves when told to. Thread-safe.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(absl::Time start) : now_(start) {}
  absl::Time Now() const override {
    absl::MutexLock lock(&mu_);
    return now_;
  }
  void Advance(absl::Duration d) {
    absl::MutexLock lock(&mu_);
    now_ += d;
  }
  void Set(absl::Time t) {
    absl::MutexLock lock(&mu_);
    now_ = t;
  }

 private:
  mutable absl::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_);
};

}  // namespace reception

#endif  // RECEPTION_SERVICES_COMMON_CLOCK_H_
