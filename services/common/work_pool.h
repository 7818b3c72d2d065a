// A fixed pool of threads for work that must not run on a gRPC reactor
// thread (bounded but possibly long scans of the store).
#ifndef RECEPTION_SERVICES_COMMON_WORK_POOL_H_
#define RECEPTION_SERVICES_COMMON_WORK_POOL_H_

#include <deque>
#include <string>
#include <thread>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/synchronization/mutex.h"

namespace reception {

class WorkPool {
 public:
  // `name` names the threads ("case-read").
  WorkPool(int threads, const std::string& name);
  // Runs every queued task, then joins the threads.
  ~WorkPool();
  WorkPool(const WorkPool&) = delete;
  WorkPool& operator=(const WorkPool&) = delete;

  // Thread-safe and non-blocking.
  void Post(absl::AnyInvocable<void()> task);

 private:
  void Loop();
  absl::Mutex mu_;
  std::deque<absl::AnyInvocable<void()>> tasks_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace reception

#endif  // RECEPTION_SERVICES_COMMON_WORK_POOL_H_
