#include "services/case/case_reports.h"

#include <array>
#include <map>
#include <optional>
#include <tuple>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "google/protobuf/arena.h"
#include "services/case/case_replicas.h"
#include "services/case/reception_log.h"
#include "services/case/report_view.pb.h"
#include "services/common/civil_date.h"
#include "services/common/report_period.h"
#include "services/common/status.h"

namespace reception {

using cases::v1::Case;
using cases::v1::ReportFigure;

namespace {

// Dates of a Case (type::v1::Date) or of the report's view (DateView).
template <typename DateT>
bool Unset(const DateT& d) {
  return d.year() == 0 && d.month() == 0 && d.day() == 0;
}
template <typename DateT>
absl::CivilDay Day(const DateT& d) {
  return absl::CivilDay(d.year(), d.month(), d.day());
}

template <typename DateT>
bool Within(const DateT& d, absl::CivilDay from, absl::CivilDay to) {
  if (Unset(d)) return false;
  const absl::CivilDay day = Day(d);
  return day >= from && day <= to;
}

template <typename CaseT>
auto SettleClock(const CaseT& c) -> decltype(&c.clocks(0)) {
  decltype(&c.clocks(0)) found = nullptr;
  for (const auto& k : c.clocks()) {
    if (k.step() == cases::v1::DEADLINE_STEP_SETTLE) found = &k;
  }
  return found;
}

template <typename CaseT>
bool DecidedLate(const CaseT& c) {
  const auto* k = SettleClock(c);
  return k != nullptr && k->has_due_date() && Day(c.decision().date()) > Day(k->due_date());
}

// Accepted by `day`, neither decided nor withdrawn in whole by then.
template <typename CaseT>
bool PendingOn(const CaseT& c, absl::CivilDay day) {
  if (!c.has_acceptance() || Unset(c.acceptance().date()) || Day(c.acceptance().date()) > day) {
    return false;
  }
  if (c.has_decision() && !Unset(c.decision().date()) && Day(c.decision().date()) <= day) {
    return false;
  }
  for (const auto& w : c.withdrawals()) {
    if (!w.partial() && !Unset(w.date()) && Day(w.date()) <= day) return false;
  }
  return true;
}

constexpr ReportFigure kFigures[] = {
    cases::v1::REPORT_FIGURE_RECEIVED,        cases::v1::REPORT_FIGURE_WITHIN_COMPETENCE,
    cases::v1::REPORT_FIGURE_ACCEPTED,        cases::v1::REPORT_FIGURE_SETTLED_ON_TIME,
    cases::v1::REPORT_FIGURE_SETTLED_LATE,    cases::v1::REPORT_FIGURE_PENDING_WITHIN_TIME,
    cases::v1::REPORT_FIGURE_PENDING_OVERDUE, cases::v1::REPORT_FIGURE_WITHDRAWN,
    cases::v1::REPORT_FIGURE_TRANSFERRED_OUT, cases::v1::REPORT_FIGURE_TRANSFERRED_IN,
    cases::v1::REPORT_FIGURE_GUIDED,          cases::v1::REPORT_FIGURE_MASS_CASE,
    cases::v1::REPORT_FIGURE_RECEIVED_ONLINE,
};

std::string FigureName(ReportFigure f) {
  std::string name = cases::v1::ReportFigure_Name(f);
  return absl::AsciiStrToLower(EnumSuffix(name, "REPORT_FIGURE_"));
}

}  // namespace

bool IsReceptionFigure(ReportFigure f) {
  return f == cases::v1::REPORT_FIGURE_RECEIVED || f == cases::v1::REPORT_FIGURE_TRANSFERRED_OUT ||
         f == cases::v1::REPORT_FIGURE_MASS_CASE || f == cases::v1::REPORT_FIGURE_RECEIVED_ONLINE;
}

template <typename CaseT>
const std::string& FigureUnit(const CaseT& c, ReportFigure f) {
  return IsReceptionFigure(f) ? c.reception_unit().code() : c.owner_unit();
}

template <typename CaseT>
bool CountsIn(const CaseT& c, ReportFigure f, const FigurePeriod& p, const Topology& topology,
              const std::string& row_unit, bool subtree) {
  auto in = [&](const std::string& unit) {
    return subtree ? topology.IsWithin(unit, row_unit) : unit == row_unit;
  };
  const bool received = Within(c.received_date(), p.from, p.to);
  switch (f) {
    case cases::v1::REPORT_FIGURE_RECEIVED:
      return received;
    case cases::v1::REPORT_FIGURE_WITHIN_COMPETENCE:
      return received && c.classification().within_competence();
    case cases::v1::REPORT_FIGURE_ACCEPTED:
      return c.has_acceptance() && Within(c.acceptance().date(), p.from, p.to);
    case cases::v1::REPORT_FIGURE_SETTLED_ON_TIME:
      return c.has_decision() && Within(c.decision().date(), p.from, p.to) && !DecidedLate(c);
    case cases::v1::REPORT_FIGURE_SETTLED_LATE:
      return c.has_decision() && Within(c.decision().date(), p.from, p.to) && DecidedLate(c);
    case cases::v1::REPORT_FIGURE_PENDING_WITHIN_TIME:
    case cases::v1::REPORT_FIGURE_PENDING_OVERDUE: {
      if (!PendingOn(c, p.as_of)) return false;
      const auto* k = SettleClock(c);
      const bool overdue = k != nullptr && k->has_due_date() && Day(k->due_date()) < p.as_of;
      return overdue == (f == cases::v1::REPORT_FIGURE_PENDING_OVERDUE);
    }
    case cases::v1::REPORT_FIGURE_WITHDRAWN:
      for (const auto& w : c.withdrawals()) {
        if (!w.partial() && Within(w.date(), p.from, p.to)) return true;
      }
      return false;
    case cases::v1::REPORT_FIGURE_TRANSFERRED_OUT:
      return received && in(c.reception_unit().code()) && !in(c.owner_unit());
    case cases::v1::REPORT_FIGURE_TRANSFERRED_IN:
      return received && in(c.owner_unit()) && !in(c.reception_unit().code());
    case cases::v1::REPORT_FIGURE_GUIDED:
      return c.has_guidance() && Within(c.guidance().date(), p.from, p.to);
    case cases::v1::REPORT_FIGURE_MASS_CASE:
      return received && c.mass_case();
    case cases::v1::REPORT_FIGURE_RECEIVED_ONLINE:
      return received && c.channel() == cases::v1::CHANNEL_ONLINE_SESSION;
    default:
      return false;
  }
}

template const std::string& FigureUnit(const Case&, ReportFigure);
template const std::string& FigureUnit(const cases::storage::view::CaseReportView&, ReportFigure);
template bool CountsIn(const Case&, ReportFigure, const FigurePeriod&, const Topology&,
                       const std::string&, bool);
template bool CountsIn(const cases::storage::view::CaseReportView&, ReportFigure,
                       const FigurePeriod&, const Topology&, const std::string&, bool);

absl::StatusOr<cases::v1::CaseReport> CaseReports::GetCaseReport(
    const Principal& p, const cases::v1::GetCaseReportRequest& r) const {
  const std::string unit = r.unit().empty() ? d_.unit_code : r.unit();
  if (unit.size() > 32 || d_.topology->Find(unit) == nullptr) {
    return InvalidField("unit", "must be a unit of this node's topology");
  }
  if (!d_.topology->IsWithin(unit, d_.unit_code)) {
    return InvalidField("unit", absl::StrCat("must be unit ", d_.unit_code, " or a unit below it"));
  }
  // A bridge point below this node reports on its own unit and below only.
  if (p.role != Role::kNode && p.unit_code != d_.unit_code &&
      d_.topology->IsWithin(p.unit_code, d_.unit_code) &&
      !d_.topology->IsWithin(unit, p.unit_code)) {
    return absl::PermissionDeniedError(
        absl::StrCat("unit ", p.unit_code, " reports on itself and the units below it only"));
  }
  PeriodKind kind;
  switch (r.period()) {
    case cases::v1::CASE_REPORT_PERIOD_MONTH:
      kind = PeriodKind::kMonth;
      break;
    case cases::v1::CASE_REPORT_PERIOD_QUARTER:
      kind = PeriodKind::kQuarter;
      break;
    case cases::v1::CASE_REPORT_PERIOD_HALF_YEAR:
      kind = PeriodKind::kHalfYear;
      break;
    case cases::v1::CASE_REPORT_PERIOD_NINE_MONTHS:
      kind = PeriodKind::kNineMonths;
      break;
    case cases::v1::CASE_REPORT_PERIOD_YEAR:
      kind = PeriodKind::kYear;
      break;
    default:
      return InvalidField("period", "must be month, quarter, half_year, nine_months or year");
  }
  RECEPTION_ASSIGN_OR_RETURN(ReportSpan span,
                             ReportPeriodSpan(kind, r.year(), r.number(), *d_.rules));
  FigurePeriod period{span.first, span.last, std::min(span.last, d_.clock->Today())};

  cases::v1::CaseReport out;
  out.set_unit(unit);
  *out.mutable_from() = ToProtoDate(period.from);
  *out.mutable_to() = ToProtoDate(period.to);
  *out.mutable_as_of() = ToProtoDate(period.as_of);
  out.set_period_source(span.source);

  // Rows: the unit itself, then each unit directly below it that existed
  // during the period.
  struct Row {
    std::string unit;
    bool subtree;
    std::array<int64_t, 16> figures{};
    std::map<cases::v1::CaseKind, int64_t> kinds;
    std::map<cases::v1::Channel, int64_t> channels;
  };
  std::vector<Row> rows;
  rows.push_back({unit, false});
  for (const auto& child : d_.topology->Children(unit)) {
    const auto* u = d_.topology->Find(child);
    if (u == nullptr) continue;
    if (!IsUnset(u->valid_from()) && DayOf(u->valid_from()) > period.to) continue;
    if (!IsUnset(u->valid_to()) && DayOf(u->valid_to()) < period.from) continue;
    rows.push_back({child, true});
  }
  // Units below the report's unit that belong to no row (a child unit not
  // in force during the period) count in the total only.
  const int kNoRow = static_cast<int>(rows.size());
  Row total{unit, true};
  // Where a unit stands, worked out once per unit: -1 outside the report's
  // subtree, else its row (kNoRow: none). The rows partition the subtree, so
  // "in row i" is "row_for(x) == i" for every figure.
  absl::flat_hash_map<std::string, int> row_of;
  auto row_for = [&](const std::string& u) -> int {
    auto it = row_of.find(u);
    if (it != row_of.end()) return it->second;
    int found = -1;
    if (u == unit) {
      found = 0;
    } else if (d_.topology->IsWithin(u, unit)) {
      found = kNoRow;
      for (size_t i = 1; i < rows.size(); ++i) {
        if (d_.topology->IsWithin(u, rows[i].unit)) found = static_cast<int>(i);
      }
    }
    row_of.emplace(u, found);
    return found;
  };
  using View = cases::storage::view::CaseReportView;
  auto count = [&](const View& c) {
    const int r_recv = row_for(c.reception_unit().code());
    const int r_own = row_for(c.owner_unit());
    if (r_recv < 0 && r_own < 0) return;
    auto add = [&](int r, ReportFigure f, const View& c) {
      for (Row* row : {&total, r < kNoRow ? &rows[static_cast<size_t>(r)] : nullptr}) {
        if (row == nullptr) continue;
        ++row->figures[f];
        if (f == cases::v1::REPORT_FIGURE_RECEIVED) {
          ++row->kinds[static_cast<cases::v1::CaseKind>(c.kind())];
          ++row->channels[static_cast<cases::v1::Channel>(c.channel())];
        }
      }
    };
    for (ReportFigure f : kFigures) {
      if (f == cases::v1::REPORT_FIGURE_TRANSFERRED_OUT ||
          f == cases::v1::REPORT_FIGURE_TRANSFERRED_IN) {
        continue;  // below: they depend on the row
      }
      const int r = IsReceptionFigure(f) ? r_recv : r_own;
      // The other figures do not look at units: the report's unit will do.
      if (r >= 0 && CountsIn(c, f, period, *d_.topology, unit, true)) add(r, f, c);
    }
    // CountsIn's transfers, by rows: out of the row that received it and
    // now owns it no more, into the row that owns it and did not receive it.
    if (Within(c.received_date(), period.from, period.to)) {
      if (r_recv >= 0 && r_own < 0) ++total.figures[cases::v1::REPORT_FIGURE_TRANSFERRED_OUT];
      if (r_own >= 0 && r_recv < 0) ++total.figures[cases::v1::REPORT_FIGURE_TRANSFERRED_IN];
      if (r_recv >= 0 && r_recv < kNoRow && r_recv != r_own) {
        ++rows[static_cast<size_t>(r_recv)].figures[cases::v1::REPORT_FIGURE_TRANSFERRED_OUT];
      }
      if (r_own >= 0 && r_own < kNoRow && r_own != r_recv) {
        ++rows[static_cast<size_t>(r_own)].figures[cases::v1::REPORT_FIGURE_TRANSFERRED_IN];
      }
    }
  };

  // The report facts of this node's own records and of the replicas: the
  // two of one case are adjacent (number '\0' 'o', then 'r'); each case is
  // counted once, the newer record winning (this node's own when it owns
  // the case).
  auto it = d_.store->NewIterator(records_.families().facts);
  // Parsed on an arena (a view holds several small messages: no malloc and
  // free per case), released every few thousand cases between two numbers.
  google::protobuf::Arena arena;
  View* own = google::protobuf::Arena::CreateMessage<View>(&arena);
  View* rep = google::protobuf::Arena::CreateMessage<View>(&arena);
  int since_reset = 0;
  bool has_own = false, has_rep = false;
  std::string current;
  auto flush = [&] {
    if (has_own && has_rep) {
      const bool rep_newer = std::make_tuple(rep->owner_epoch(), rep->version()) >
                             std::make_tuple(own->owner_epoch(), own->version());
      count(own->owner_unit() == d_.unit_code || !rep_newer ? *own : *rep);
    } else if (has_own || has_rep) {
      count(has_own ? *own : *rep);
    }
    has_own = has_rep = false;
    if (++since_reset >= 4096) {
      since_reset = 0;
      arena.Reset();
      own = google::protobuf::Arena::CreateMessage<View>(&arena);
      rep = google::protobuf::Arena::CreateMessage<View>(&arena);
    }
  };
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const absl::string_view key(it->key().data(), it->key().size());
    if (key.size() < 3 || key[key.size() - 2] != '\0') {
      return absl::DataLossError("a report facts key does not parse");
    }
    const absl::string_view number = key.substr(0, key.size() - 2);
    if (number != current) {
      flush();
      current.assign(number.data(), number.size());
    }
    const bool is_rep = key.back() == 'r';
    View& target = is_rep ? *rep : *own;
    if (!target.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return absl::DataLossError(absl::StrCat("the report facts of ", current, " do not parse"));
    }
    (is_rep ? has_rep : has_own) = true;
  }
  flush();
  if (!it->status().ok()) return absl::InternalError(it->status().ToString());

  auto render = [&](const Row& row, cases::v1::CaseReportRow* o) {
    o->set_unit(row.unit);
    if (const auto* u = d_.topology->Find(row.unit)) o->set_unit_name(u->name());
    for (ReportFigure fig : kFigures) {
      auto* c = o->add_counts();
      c->set_figure(fig);
      c->set_count(row.figures[fig]);
    }
    // (A case without a kind or channel is in the figure, not in a breakdown.)
    for (const auto& [k, n] : row.kinds) {
      if (k == cases::v1::CASE_KIND_UNSPECIFIED) continue;
      auto* c = o->add_counts();
      c->set_figure(cases::v1::REPORT_FIGURE_RECEIVED);
      c->set_kind(k);
      c->set_count(n);
    }
    for (const auto& [ch, n] : row.channels) {
      if (ch == cases::v1::CHANNEL_UNSPECIFIED) continue;
      auto* c = o->add_counts();
      c->set_figure(cases::v1::REPORT_FIGURE_RECEIVED);
      c->set_channel(ch);
      c->set_count(n);
    }
    auto get = [&](ReportFigure fig) { return row.figures[fig]; };
    const int64_t on_time = get(cases::v1::REPORT_FIGURE_SETTLED_ON_TIME);
    const int64_t settled = on_time + get(cases::v1::REPORT_FIGURE_SETTLED_LATE);
    if (settled > 0) o->set_on_time_percent(100.0 * static_cast<double>(on_time) / settled);
    auto* lr = o->mutable_list_request();
    lr->set_scope(cases::v1::LIST_SCOPE_SUBTREE);
    if (row.subtree) {
      lr->set_within_unit(row.unit);
    } else {
      lr->set_unit_code(row.unit);
    }
    *lr->mutable_report_from() = ToProtoDate(period.from);
    *lr->mutable_report_to() = ToProtoDate(period.to);
    lr->set_page_size(500);
  };
  for (const Row& row : rows) render(row, out.add_rows());
  render(total, out.mutable_total());

  if (r.csv()) {
    std::string csv = "unit,unit_name";
    for (ReportFigure fig : kFigures) absl::StrAppend(&csv, ",", FigureName(fig));
    absl::StrAppend(&csv, ",on_time_percent\r\n");
    auto line = [&](const cases::v1::CaseReportRow& row, bool is_total) {
      absl::StrAppend(&csv, CsvField(is_total ? absl::StrCat(row.unit(), " (total)") : row.unit()),
                      ",", CsvField(row.unit_name()));
      for (int i = 0; i < static_cast<int>(std::size(kFigures)); ++i) {
        absl::StrAppend(&csv, ",", row.counts(i).count());
      }
      absl::StrAppend(&csv, ",",
                      row.has_on_time_percent() ? absl::StrFormat("%.1f", row.on_time_percent())
                                                : std::string(),
                      "\r\n");
    };
    for (const auto& row : out.rows()) line(row, false);
    line(out.total(), true);
    out.set_csv(std::move(csv));
  }
  return out;
}

}  // namespace reception
