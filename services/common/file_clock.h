// A clock whose date is read from a file: the seam that lets an integration
// test move a real node's "today" (deadlines turning overdue) without
// waiting days. Never for production: the node logs a warning when it is on.
#ifndef RECEPTION_SERVICES_COMMON_FILE_CLOCK_H_
#define RECEPTION_SERVICES_COMMON_FILE_CLOCK_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "services/common/clock.h"

namespace reception {

// The file holds one date, "YYYY-MM-DD" (Asia/Ho_Chi_Minh). Now() is that
// date plus the real time of day, re-read on every call; if the
// file becomes unreadable the last good date stays. Thread-safe.
class FileClock final : public Clock {
 public:
  // Fails when the file does not hold a date.
  static absl::StatusOr<std::unique_ptr<FileClock>> Open(const std::string& path);
  absl::Time Now() const override;

 private:
  explicit FileClock(std::string path) : path_(std::move(path)) {}
  void Refresh() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  std::string path_;
  mutable absl::Mutex mu_;
  mutable absl::CivilDay day_ ABSL_GUARDED_BY(mu_);
};

}  // namespace reception

#endif  // RECEPTION_SERVICES_COMMON_FILE_CLOCK_H_
