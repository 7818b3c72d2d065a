#include "services/common/rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace reception {

RateLimiter::RateLimiter(const Clock* clock, int per_key, int total, size_t max_keys)
    : clock_(clock), per_key_(per_key), total_(total), max_keys_(max_keys) {
  all_.tokens = total_;
  all_.updated = clock_->Now();
}

void RateLimiter::Refill(Bucket& b, double capacity, absl::Time now) const {
  const double minutes = absl::ToDoubleMinutes(std::max(absl::ZeroDuration(), now - b.updated));
  b.tokens = std::min(capacity, b.tokens + minutes * capacity);
  b.updated = now;
}

absl::Duration RateLimiter::Take(absl::string_view key) {
  const absl::Time now = clock_->Now();
  absl::MutexLock lock(&mu_);
  Refill(all_, total_, now);
  auto it = keys_.find(key);
  if (it == keys_.end()) {
    if (keys_.size() >= max_keys_) {
      // Forget buckets that have filled up again: they hold no history.
      for (auto k = keys_.begin(); k != keys_.end();) {
        Refill(k->second, per_key_, now);
        if (k->second.tokens >= per_key_) {
          keys_.erase(k++);
        } else {
          ++k;
        }
      }
      // Everyone is busy: treat the newcomer as the node's bucket allows.
      if (keys_.size() >= max_keys_) {
        if (all_.tokens < 1) return absl::Minutes((1 - all_.tokens) / total_);
        all_.tokens -= 1;
        return absl::ZeroDuration();
      }
    }
    it = keys_.emplace(std::string(key), Bucket{per_key_, now}).first;
  }
  Bucket& mine = it->second;
  Refill(mine, per_key_, now);
  if (mine.tokens < 1) return absl::Minutes((1 - mine.tokens) / per_key_);
  if (all_.tokens < 1) return absl::Minutes((1 - all_.tokens) / total_);
  mine.tokens -= 1;
  all_.tokens -= 1;
  return absl::ZeroDuration();
}

}  // namespace reception
