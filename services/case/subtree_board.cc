#include "services/case/subtree_board.h"

#include <map>
#include <tuple>

#include "prometheus/client_metric.h"
#include "prometheus/metric_family.h"

namespace reception {

void SubtreeBoard::Update(const cases::v1::Case& c, bool replica) {
  Put(c.number(), Summarize(c, replica));
}

SubtreeBoard::Entry SubtreeBoard::Summarize(const cases::v1::Case& c, bool replica) const {
  Entry e;
  e.epoch = c.owner_epoch();
  e.version = c.version();
  e.owner = c.owner_unit();
  e.holder = replica ? c.replica().origin_unit() : unit_;
  e.own_owned = !replica && c.owner_unit() == unit_;
  for (const auto& k : c.clocks()) {
    e.open = e.open || k.state() == cases::v1::CLOCK_STATE_RUNNING ||
             k.state() == cases::v1::CLOCK_STATE_PAUSED;
  }
  if (c.has_due_date()) {
    e.due = absl::CivilDay(c.due_date().year(), c.due_date().month(), c.due_date().day());
  }
  e.updated = absl::FromUnixSeconds(c.update_time().seconds());
  return e;
}

void SubtreeBoard::Put(const std::string& number, Entry e) {
  absl::MutexLock lock(&mu_);
  auto it = cases_.find(number);
  if (it != cases_.end()) {
    const Entry& old = it->second;
    if (old.own_owned && !e.own_owned) return;  // the owner's own record is the truth
    if (!e.own_owned && std::tie(e.epoch, e.version) <= std::tie(old.epoch, old.version)) return;
  }
  cases_[number] = std::move(e);
}

std::vector<SubtreeBoard::UnitCounts> SubtreeBoard::Counts() const {
  const absl::CivilDay today = clock_->Today();
  std::optional<absl::CivilDay> risk_end;
  if (deadlines_ != nullptr) {
    auto end = deadlines_->calendar().PeriodEnd(today, kAtRiskWorkingDays, DayBasis::kWorkingDays);
    if (end.ok()) risk_end = *end;
  }
  const absl::Time now = clock_->Now();
  std::map<std::string, UnitCounts> by_unit;
  absl::MutexLock lock(&mu_);
  for (const auto& [number, e] : cases_) {
    if (e.open) {
      UnitCounts& u = by_unit[e.owner];
      ++u.open;
      if (e.due && *e.due < today) ++u.overdue;
      if (e.due && *e.due >= today && risk_end && *e.due <= *risk_end) ++u.at_risk;
    }
    // Handed on by its holder to a node this one follows, not yet
    // published by the destination.
    if (e.holder != e.owner && topology_->IsWithin(e.owner, unit_)) {
      UnitCounts& u = by_unit[e.holder];
      ++u.pending_handoffs;
      u.oldest_pending_handoff_seconds =
          std::max(u.oldest_pending_handoff_seconds, absl::ToInt64Seconds(now - e.updated));
    }
  }
  std::vector<UnitCounts> out;
  for (auto& [unit, u] : by_unit) {
    u.unit = unit;
    out.push_back(std::move(u));
  }
  return out;
}

std::vector<prometheus::MetricFamily> SubtreeBoard::Collect() const {
  using prometheus::MetricFamily;
  MetricFamily open{"reception_subtree_cases_open",
                    "Cases with a running or paused clock, per owner unit of this node's subtree",
                    prometheus::MetricType::Gauge,
                    {}};
  MetricFamily overdue{"reception_subtree_cases_overdue",
                       "Cases past their due date, per owner unit of this node's subtree",
                       prometheus::MetricType::Gauge,
                       {}};
  MetricFamily at_risk{
      "reception_subtree_cases_at_risk",
      "Cases due within 5 working days (not yet overdue), per owner unit of the subtree",
      prometheus::MetricType::Gauge,
      {}};
  MetricFamily oldest{"reception_subtree_oldest_pending_handoff_seconds",
                      "Age of the oldest handoff a unit of the subtree made that its destination "
                      "has not published yet",
                      prometheus::MetricType::Gauge,
                      {}};
  auto add = [](MetricFamily& f, const std::string& unit, int64_t v) {
    prometheus::ClientMetric m;
    m.label = {{"unit", unit}};
    m.gauge.value = static_cast<double>(v);
    f.metric.push_back(std::move(m));
  };
  for (const auto& u : Counts()) {
    add(open, u.unit, u.open);
    add(overdue, u.unit, u.overdue);
    add(at_risk, u.unit, u.at_risk);
    add(oldest, u.unit, u.oldest_pending_handoff_seconds);
  }
  return {std::move(open), std::move(overdue), std::move(at_risk), std::move(oldest)};
}

}  // namespace reception
