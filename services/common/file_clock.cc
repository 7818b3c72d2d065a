#include "services/common/file_clock.h"

#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "services/common/civil_date.h"

namespace reception {
namespace {

absl::StatusOr<absl::CivilDay> ReadDay(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read clock file ", path));
  std::stringstream text;
  text << in.rdbuf();
  return ParseDate(absl::StripAsciiWhitespace(text.str()));
}

}  // namespace

absl::StatusOr<std::unique_ptr<FileClock>> FileClock::Open(const std::string& path) {
  auto day = ReadDay(path);
  if (!day.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--clock_file ", path, " must hold a date YYYY-MM-DD: ", day.status().message()));
  }
  std::unique_ptr<FileClock> clock(new FileClock(path));
  absl::MutexLock lock(&clock->mu_);
  clock->day_ = *day;
  return clock;
}

void FileClock::Refresh() const {
  // Read on every call: modification times are too coarse to tell two quick
  // writes apart, and this clock is for tests only.
  auto day = ReadDay(path_);
  if (!day.ok()) return;  // a half-written file: keep the last good date
  day_ = *day;
}

absl::Time FileClock::Now() const {
  const absl::TimeZone tz = VietnamTimeZone();
  const absl::Time real = absl::Now();
  const absl::Duration time_of_day = real - absl::FromCivil(absl::ToCivilDay(real, tz), tz);
  absl::MutexLock lock(&mu_);
  Refresh();
  return absl::FromCivil(day_, tz) + time_of_day;
}

}  // namespace reception
