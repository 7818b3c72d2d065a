// Token buckets per key (a caller's address) and for the whole node: the
// public status look-up answers a person at a desk or a phone, never a
// script walking case numbers. Transport-free; time comes from a Clock.
#ifndef RECEPTION_SERVICES_COMMON_RATE_LIMITER_H_
#define RECEPTION_SERVICES_COMMON_RATE_LIMITER_H_

#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/common/clock.h"

namespace reception {

// Thread-safe.
class RateLimiter {
 public:
  // `per_key` calls per minute for each key (bursts up to that many), and
  // `total` per minute for all keys together. At most `max_keys` keys are
  // tracked; past it the fullest (idle) buckets are forgotten first.
  RateLimiter(const Clock* clock, int per_key, int total, size_t max_keys = 100000);

  // Zero when the call may go ahead (a token is taken from both buckets);
  // otherwise how long until it may.
  absl::Duration Take(absl::string_view key);

 private:
  struct Bucket {
    double tokens = 0;
    absl::Time updated;
  };
  void Refill(Bucket& b, double capacity, absl::Time now) const;

  const Clock* clock_;
  const double per_key_;
  const double total_;
  const size_t max_keys_;
  absl::Mutex mu_;
  Bucket all_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, Bucket> keys_ ABSL_GUARDED_BY(mu_);
};

}  // namespace reception

#endif  // RECEPTION_SERVICES_COMMON_RATE_LIMITER_H_
