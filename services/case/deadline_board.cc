#include "services/case/deadline_board.h"

#include <map>

#include "absl/strings/ascii.h"
#include "prometheus/client_metric.h"
#include "prometheus/metric_family.h"
#include "services/calendar/deadline_engine.h"

namespace reception {

void DeadlineBoard::Update(const cases::v1::Case& c) {
  if (subtree_ != nullptr) subtree_->Update(c, /*replica=*/false);
  std::vector<Entry> entries;
  for (const auto& clock : c.clocks()) {
    if (clock.state() != cases::v1::CLOCK_STATE_RUNNING &&
        clock.state() != cases::v1::CLOCK_STATE_PAUSED) {
      continue;
    }
    Entry e{c.kind(), clock.step(), std::nullopt};
    if (clock.state() == cases::v1::CLOCK_STATE_RUNNING && clock.has_due_date()) {
      e.due =
          absl::CivilDay(clock.due_date().year(), clock.due_date().month(), clock.due_date().day());
    }
    entries.push_back(e);
  }
  absl::MutexLock lock(&mu_);
  if (entries.empty()) {
    open_.erase(c.number());
  } else {
    open_[c.number()] = std::move(entries);
  }
}

std::vector<DeadlineBoard::Count> DeadlineBoard::Counts(absl::CivilDay today) const {
  std::map<std::pair<int, int>, Count> by_key;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [number, entries] : open_) {
      for (const Entry& e : entries) {
        Count& n = by_key[{e.kind, e.step}];
        ++n.open;
        if (e.due && *e.due < today) ++n.overdue;
      }
    }
  }
  std::vector<Count> out;
  for (auto& [key, n] : by_key) {
    std::string kind = cases::v1::CaseKind_Name(static_cast<cases::v1::CaseKind>(key.first));
    n.kind = absl::AsciiStrToLower(absl::string_view(kind).substr(sizeof("CASE_KIND_") - 1));
    n.step = StepName(static_cast<cases::v1::DeadlineStep>(key.second));
    out.push_back(std::move(n));
  }
  return out;
}

std::vector<prometheus::MetricFamily> DeadlineBoard::Collect() const {
  prometheus::MetricFamily open{"reception_cases_open",
                                "Cases with a running or paused statutory clock, by kind and step",
                                prometheus::MetricType::Gauge,
                                {}};
  prometheus::MetricFamily overdue{
      "reception_cases_overdue",
      "Cases whose running clock is past its due date, by kind and step",
      prometheus::MetricType::Gauge,
      {}};
  for (const Count& n : Counts(clock_->Today())) {
    for (auto* family : {&open, &overdue}) {
      prometheus::ClientMetric m;
      m.label = {{"kind", n.kind}, {"step", n.step}};
      m.gauge.value = static_cast<double>(family == &open ? n.open : n.overdue);
      family->metric.push_back(std::move(m));
    }
  }
  return {std::move(open), std::move(overdue)};
}

}  // namespace reception
