#include "services/case/case_queries.h"

#include <algorithm>
#include <functional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "services/case/audit_chain.h"
#include "services/case/case_reports.h"
#include "services/case/intake.h"
#include "services/case/reception_log.h"
#include "services/common/civil_date.h"
#include "services/common/logging.h"
#include "services/common/status.h"
#include "services/common/text.h"

namespace reception {

using cases::storage::CaseRecord;
using cases::v1::Case;

std::string CaseQueries::ReadScope(const Principal& p) const {
  if (p.role == Role::kNode || p.unit_code == d_.unit_code) return "";
  return d_.topology->IsWithin(p.unit_code, d_.unit_code) ? p.unit_code : "";
}

absl::StatusOr<Case> CaseQueries::GetCase(const Principal& p,
                                          const cases::v1::GetCaseRequest& r) const {
  RECEPTION_ASSIGN_OR_RETURN(std::string number, ParseCaseName(r.name(), "name"));
  RECEPTION_ASSIGN_OR_RETURN(auto rec, records_.Load(nullptr, number));
  if (!rec) {
    // A case of the subtree this node follows: the replica, read-only.
    RECEPTION_ASSIGN_OR_RETURN(auto replica, replicas_.Load(nullptr, number));
    if (!replica) return CaseNotFound(number);
    rec.emplace();
    *rec->mutable_case_() = std::move(*replica->mutable_case_());
  }
  if (const std::string scope = ReadScope(p);
      !scope.empty() && !d_.topology->IsWithin(rec->case_().reception_unit().code(), scope)) {
    return absl::PermissionDeniedError(
        absl::StrCat("unit ", scope, " reads on this node only the cases received at it; ",
                     r.name(), " was received at unit ", rec->case_().reception_unit().code()));
  }
  Case& c = *rec->mutable_case_();
  const absl::CivilDay today = d_.clock->Today();
  clocks_.Decorate(c, today);
  if (!c.repeats_case().empty() && !c.has_replica()) {
    // The same rule GuideCase applies, so RouteCase and GuideCase agree. A
    // read is not refused for it: when it cannot be judged (no rule pack
    // for today, a link that does not read) the flag stays unset and
    // GuideCase reports why.
    auto refused = duplicates_.GuidanceRefusal(nullptr, c, today);
    if (refused.ok()) {
      c.set_matter_guidance_exhausted(!refused->empty());
    } else {
      Log()->warn("event=guidance_rule_unjudged case={} error={}", c.number(),
                  LogValue(refused.status().message()));
    }
  }
  return std::move(c);
}

absl::StatusOr<bool> CaseQueries::Wins(const Candidate& cand) const {
  if (cand.replica) {
    RECEPTION_ASSIGN_OR_RETURN(auto own, records_.Load(nullptr, cand.c.number()));
    return !own || (own->case_().owner_unit() != d_.unit_code && NewerThan(cand.c, own->case_()));
  }
  if (cand.c.owner_unit() == d_.unit_code) return true;
  RECEPTION_ASSIGN_OR_RETURN(auto replica, replicas_.Load(nullptr, cand.c.number()));
  return !replica || !NewerThan(replica->case_(), cand.c);
}

absl::StatusOr<bool> CaseQueries::MatchesFilters(const Candidate& cand,
                                                 const ListFilters& f) const {
  const cases::v1::ListCasesRequest& r = *f.request;
  const Case& c = cand.c;
  if (r.channel() != cases::v1::CHANNEL_UNSPECIFIED && c.channel() != r.channel()) return false;
  if (r.report_figure() != cases::v1::REPORT_FIGURE_UNSPECIFIED) {
    // The report's own predicate, its unit filter on the unit the figure
    // belongs to (the reception or the owner unit).
    const bool subtree = !r.within_unit().empty() || r.unit_code().empty();
    const std::string& row = !r.within_unit().empty() ? r.within_unit()
                             : !r.unit_code().empty() ? r.unit_code()
                                                      : d_.unit_code;
    const std::string& unit = FigureUnit(c, r.report_figure());
    if (!(subtree ? d_.topology->IsWithin(unit, row) : unit == row)) return false;
    if (!CountsIn(c, r.report_figure(), *f.report, *d_.topology, row, subtree)) return false;
  } else {
    if (!r.within_unit().empty() &&
        !d_.topology->IsWithin(c.reception_unit().code(), r.within_unit())) {
      return false;
    }
    if (!r.unit_code().empty() && c.reception_unit().code() != r.unit_code()) return false;
  }
  if (r.state() != cases::v1::CASE_STATE_UNSPECIFIED && c.state() != r.state()) return false;
  if (r.kind() != cases::v1::CASE_KIND_UNSPECIFIED && c.kind() != r.kind()) return false;
  if (!f.received_within.empty() &&
      !d_.topology->IsWithin(c.reception_unit().code(), f.received_within)) {
    return false;
  }
  if (r.awaiting_jurisdiction_decision() &&
      (c.owner_unit() != d_.unit_code || c.dispute().state() != cases::v1::DISPUTE_STATE_OPEN ||
       c.dispute().deciding_unit() != d_.unit_code)) {
    return false;
  }
  if (f.from || f.to) {
    const absl::CivilDay day = DayOf(c.received_date());
    if ((f.from && day < *f.from) || (f.to && day > *f.to)) return false;
  }
  if (!f.tokens.empty()) {
    std::optional<std::string> text = cand.search_text;
    if (!cand.replica) {
      RECEPTION_ASSIGN_OR_RETURN(text, d_.store->Get(records_.families().search, c.number()));
    }
    if (!text) return false;
    if (!CaseDuplicates::Found(*text, c, f.tokens)) return false;
  }
  return true;
}

absl::StatusOr<cases::v1::ListCasesResponse> CaseQueries::ListCases(
    const Principal& p, const cases::v1::ListCasesRequest& r) const {
  if (r.page_size() < 0) return InvalidField("page_size", "must not be negative");
  if (!cases::v1::CaseState_IsValid(r.state())) return InvalidField("state", "is not a case state");
  if (!cases::v1::CaseKind_IsValid(r.kind())) return InvalidField("kind", "is not a case kind");
  RECEPTION_RETURN_IF_ERROR(
      ValidateText(r.query(), "query", IntakeLimits::kMaxQueryChars, false, false));
  RECEPTION_RETURN_IF_ERROR(ValidateText(r.unit_code(), "unit_code", 32, false, false));
  RECEPTION_RETURN_IF_ERROR(ValidateText(r.within_unit(), "within_unit", 32, false, false));
  if (!r.within_unit().empty() && d_.topology->Find(r.within_unit()) == nullptr) {
    return InvalidField("within_unit", "must be a unit of this node's topology");
  }
  if (!cases::v1::ListScope_IsValid(r.scope())) return InvalidField("scope", "is not a list scope");
  if (!cases::v1::Channel_IsValid(r.channel())) return InvalidField("channel", "is not a channel");
  if (!cases::v1::ReportFigure_IsValid(r.report_figure())) {
    return InvalidField("report_figure", "is not a report figure");
  }
  std::optional<FigurePeriod> report;
  if (r.report_figure() != cases::v1::REPORT_FIGURE_UNSPECIFIED) {
    if (!r.has_report_from()) return InvalidField("report_from", "must be set with report_figure");
    if (!r.has_report_to()) return InvalidField("report_to", "must be set with report_figure");
    RECEPTION_ASSIGN_OR_RETURN(absl::CivilDay from, ToCivilDay(r.report_from(), "report_from"));
    RECEPTION_ASSIGN_OR_RETURN(absl::CivilDay to, ToCivilDay(r.report_to(), "report_to"));
    if (to < from) return InvalidField("report_to", "must not be before report_from");
    report = FigurePeriod{from, to, std::min(to, d_.clock->Today())};
  }
  ListFilters f;
  f.subtree = r.scope() == cases::v1::LIST_SCOPE_SUBTREE;
  if (report) f.report = &*report;
  f.request = &r;
  f.received_within = ReadScope(p);
  f.page_size = r.page_size() == 0 ? 50 : std::min(r.page_size(), 500);
  if (r.has_received_from()) {
    RECEPTION_ASSIGN_OR_RETURN(f.from, ToCivilDay(r.received_from(), "received_from"));
  }
  if (r.has_received_to()) {
    RECEPTION_ASSIGN_OR_RETURN(f.to, ToCivilDay(r.received_to(), "received_to"));
  }
  if (f.from && f.to && *f.to < *f.from)
    return InvalidField("received_to", "must not be before received_from");
  if (r.at_risk_working_days() < 0 || r.at_risk_working_days() > 60) {
    return InvalidField("at_risk_working_days", "must be between 1 and 60 (0: no filter)");
  }
  if (r.overdue() && r.at_risk_working_days() > 0) {
    return InvalidField("at_risk_working_days",
                        "cannot be combined with overdue (at risk means not yet overdue)");
  }
  if (!r.order_by().empty() && r.order_by() != "due_date") {
    return InvalidField("order_by", "must be empty or \"due_date\"");
  }
  const absl::CivilDay today = d_.clock->Today();
  if (r.has_due_before()) {
    RECEPTION_ASSIGN_OR_RETURN(f.due_to, ToCivilDay(r.due_before(), "due_before"));
  }
  if (r.overdue() && (!f.due_to || *f.due_to > today - 1)) f.due_to = today - 1;
  if (r.at_risk_working_days() > 0) {
    if (d_.deadlines == nullptr)
      return absl::FailedPreconditionError("no working calendar is loaded");
    auto end =
        d_.deadlines->calendar().PeriodEnd(today, r.at_risk_working_days(), DayBasis::kWorkingDays);
    if (!end.ok()) return end.status();
    f.due_from = today;
    if (!f.due_to || *end < *f.due_to) f.due_to = *end;
  }
  f.by_due = f.due_to.has_value() || f.due_from.has_value() || r.order_by() == "due_date";
  f.due_only = f.due_to.has_value() || f.due_from.has_value();
  f.tokens = Tokens(FoldForSearch(r.query()));

  cases::v1::ListCasesRequest filters = r;
  filters.clear_page_token();
  filters.clear_page_size();
  // Relative filters mean a different set tomorrow: the token is for today.
  const std::string filter_fp =
      d_.vault
          ->Fingerprint(absl::StrCat(DeterministicBytes(filters), f.by_due ? FormatDate(today) : "",
                                     "|", f.received_within))
          .substr(0, 16);
  cases::storage::PageToken token;
  if (!r.page_token().empty()) {
    RECEPTION_ASSIGN_OR_RETURN(token, DecodePageToken(r.page_token(), filter_fp));
  }

  cases::v1::ListCasesResponse out;
  int examined = 0;
  const auto& fam = records_.families();
  // Walks the families of one order from the token (this node's family
  // first; with the subtree scope also the replicas' one, merged by key);
  // `number_of` maps a key to a case number ("" = past the range). Keys
  // equal in both (one case in both) are examined once, the newer record
  // winning. Returns false when the page or the scan budget is full (a
  // token is set).
  auto walk = [&](rocksdb::ColumnFamilyHandle* own_family,
                  rocksdb::ColumnFamilyHandle* replica_family, bool is_index, int phase,
                  const std::string& start,
                  const std::function<std::string(absl::string_view)>& number_of,
                  bool skip_with_due) -> absl::StatusOr<bool> {
    struct Source {
      std::unique_ptr<rocksdb::Iterator> it;
      bool replica;
      bool ended = false;
    };
    std::vector<Source> sources;
    sources.push_back({d_.store->NewIterator(own_family), false});
    if (f.subtree) sources.push_back({d_.store->NewIterator(replica_family), true});
    const bool resume = token.phase() == phase && !token.after_key().empty();
    for (auto& src : sources) {
      src.it->Seek(resume ? token.after_key() : start);
      if (resume && src.it->Valid() && src.it->key().ToStringView() == token.after_key()) {
        src.it->Next();
      }
    }
    // Loads the candidate a source's current entry names; nullopt when the
    // entry is stale (an index entry the case has moved away from).
    auto candidate_of = [&](Source& src, const std::string& number,
                            absl::string_view key) -> absl::StatusOr<std::optional<Candidate>> {
      Candidate cand;
      cand.replica = src.replica;
      if (!src.replica) {
        CaseRecord rec;
        if (!is_index) {
          if (!rec.ParseFromArray(src.it->value().data(),
                                  static_cast<int>(src.it->value().size()))) {
            return absl::DataLossError(absl::StrCat("case record ", number, " does not parse"));
          }
        } else {
          RECEPTION_ASSIGN_OR_RETURN(auto loaded, records_.Load(nullptr, number));
          // The index and the record are read at different moments: skip
          // an entry the case has moved away from since.
          if (!loaded || loaded->due_key() != key) return std::nullopt;
          rec = *std::move(loaded);
        }
        cand.c = std::move(*rec.mutable_case_());
      } else {
        cases::storage::ReplicaRecord rec;
        if (!is_index) {
          if (!rec.ParseFromArray(src.it->value().data(),
                                  static_cast<int>(src.it->value().size()))) {
            return absl::DataLossError(absl::StrCat("replica ", number, " does not parse"));
          }
        } else {
          RECEPTION_ASSIGN_OR_RETURN(auto loaded, replicas_.Load(nullptr, number));
          if (!loaded || loaded->due_key() != key) return std::nullopt;
          rec = *std::move(loaded);
        }
        cand.c = std::move(*rec.mutable_case_());
        cand.search_text = std::move(*rec.mutable_search_text());
      }
      return cand;
    };
    std::string last_examined, last_key;
    for (;;) {
      // The smallest current key over the sources still in range.
      std::string key;
      bool any = false;
      for (auto& src : sources) {
        if (src.ended) continue;
        if (!src.it->Valid()) {
          if (!src.it->status().ok()) return absl::InternalError(src.it->status().ToString());
          src.ended = true;
          continue;
        }
        const absl::string_view current(src.it->key().data(), src.it->key().size());
        if (number_of(current).empty()) {
          src.ended = true;
          continue;
        }
        if (!any || current < key) key = std::string(current);
        any = true;
      }
      if (!any) return true;
      const std::string number = number_of(key);
      if (examined++ == std::max(1, d_.list_scan_limit)) {
        out.set_next_page_token(EncodePageToken(last_examined, filter_fp, phase));
        return false;
      }
      last_examined = key;
      std::vector<Candidate> at_key;
      for (auto& src : sources) {
        if (src.ended || absl::string_view(src.it->key().data(), src.it->key().size()) != key) {
          continue;
        }
        RECEPTION_ASSIGN_OR_RETURN(auto cand, candidate_of(src, number, key));
        src.it->Next();
        if (cand) at_key.push_back(*std::move(cand));
      }
      std::optional<Candidate> chosen;
      for (auto& cand : at_key) {
        if (f.subtree) {
          RECEPTION_ASSIGN_OR_RETURN(bool wins, Wins(cand));
          if (!wins) continue;
        } else if (cand.replica) {
          continue;
        }
        chosen = std::move(cand);
        break;
      }
      if (!chosen) continue;
      if (skip_with_due && chosen->c.has_due_date()) continue;
      RECEPTION_ASSIGN_OR_RETURN(bool match, MatchesFilters(*chosen, f));
      if (!match) continue;
      if (out.cases_size() == f.page_size) {
        out.set_next_page_token(EncodePageToken(last_key, filter_fp, phase));
        return false;
      }
      Case* c = out.add_cases();
      *c = std::move(chosen->c);
      clocks_.Decorate(*c, today);
      last_key = key;
    }
  };
  auto whole_key = [](absl::string_view key) { return std::string(key); };
  if (!f.by_due) {
    RECEPTION_RETURN_IF_ERROR(
        walk(fam.cases, fam.replicas, false, 0, "", whole_key, false).status());
    return out;
  }
  // Due order: the "due" family is sorted by date, then number.
  auto compact = [](absl::CivilDay d) {
    return absl::StrFormat("%04d%02d%02d", d.year(), d.month(), d.day());
  };
  const std::string from_key = f.due_from ? compact(*f.due_from) : "";
  const std::string to_key = f.due_to ? compact(*f.due_to) : "";
  auto due_number = [&](absl::string_view key) -> std::string {
    if (key.size() < 10 || key[8] != '/') return "";
    if (!to_key.empty() && key.substr(0, 8) > to_key) return "";
    return std::string(key.substr(9));
  };
  if (token.phase() == 0) {
    RECEPTION_ASSIGN_OR_RETURN(
        bool finished, walk(fam.due, fam.replica_due, true, 0, from_key, due_number, false));
    if (!finished || f.due_only) return out;
    token.clear_after_key();
  }
  // Then the cases with no running clock, in number order.
  token.set_phase(1);
  RECEPTION_RETURN_IF_ERROR(walk(fam.cases, fam.replicas, false, 1, "", whole_key, true).status());
  return out;
}

absl::Status CaseQueries::NotHeldHere(const std::string& name, const std::string& number) const {
  auto replica = replicas_.Load(nullptr, number);
  if (replica.ok() && *replica) {
    return absl::FailedPreconditionError(
        absl::StrCat(name,
                     " is held here only as an oversight replica (its audit trail stays with "
                     "its holder): ask the node of unit ",
                     (*replica)->case_().replica().origin_unit()));
  }
  return CaseNotFound(number);
}

absl::StatusOr<cases::v1::GetCaseHistoryResponse> CaseQueries::GetCaseHistory(
    const Principal&, const cases::v1::GetCaseHistoryRequest& r) const {
  RECEPTION_ASSIGN_OR_RETURN(std::string number, ParseCaseName(r.name(), "name"));
  if (r.page_size() < 0) return InvalidField("page_size", "must not be negative");
  const int page_size = r.page_size() == 0 ? 100 : std::min(r.page_size(), 1000);
  RECEPTION_ASSIGN_OR_RETURN(auto rec, records_.Load(nullptr, number));
  if (!rec) return NotHeldHere(r.name(), number);
  const std::string prefix = absl::StrCat(number, "/");
  const std::string fp = d_.vault->Fingerprint(number).substr(0, 16);
  auto it = d_.store->NewIterator(records_.families().events);
  if (r.page_token().empty()) {
    it->Seek(prefix);
  } else {
    RECEPTION_ASSIGN_OR_RETURN(auto token, DecodePageToken(r.page_token(), fp));
    it->Seek(token.after_key());
    if (it->Valid() && it->key().ToStringView() == token.after_key()) it->Next();
  }
  cases::v1::GetCaseHistoryResponse out;
  std::string last_key;
  for (; it->Valid() && it->key().starts_with(prefix); it->Next()) {
    if (out.events_size() == page_size) {
      out.set_next_page_token(EncodePageToken(last_key, fp));
      break;
    }
    if (!out.add_events()->ParseFromArray(it->value().data(),
                                          static_cast<int>(it->value().size()))) {
      return absl::DataLossError("case event does not parse");
    }
    last_key = it->key().ToString();
  }
  return out;
}

absl::StatusOr<cases::v1::VerifyCaseHistoryResponse> CaseQueries::VerifyCaseHistory(
    const Principal&, const cases::v1::VerifyCaseHistoryRequest& r) const {
  RECEPTION_ASSIGN_OR_RETURN(std::string number, ParseCaseName(r.name(), "name"));
  RECEPTION_ASSIGN_OR_RETURN(auto rec, records_.Load(nullptr, number));
  if (!rec) return NotHeldHere(r.name(), number);
  const std::string prefix = absl::StrCat(number, "/");
  std::vector<cases::v1::CaseEvent> events;
  auto it = d_.store->NewIterator(records_.families().events);
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    cases::v1::CaseEvent e;
    if (!e.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      e.Clear();
      e.set_sequence(static_cast<int64_t>(events.size()) + 1);
      e.set_hash("unparseable");
    }
    events.push_back(std::move(e));
  }
  ChainCheck check =
      CheckCaseChain(events, rec->case_().history_head_hash(), rec->case_().history_length());
  cases::v1::VerifyCaseHistoryResponse out;
  out.set_valid(check.valid);
  out.set_event_count(static_cast<int64_t>(events.size()));
  out.set_first_invalid_sequence(check.first_invalid_sequence);
  out.set_problem(check.problem);
  out.set_head_hash(check.head_hash);
  return out;
}

absl::StatusOr<cases::v1::ExportReceptionLogResponse> CaseQueries::ExportReceptionLog(
    const Principal&, const cases::v1::ExportReceptionLogRequest& r) const {
  if (!r.has_start_date()) return InvalidField("start_date", "must be set");
  if (!r.has_end_date()) return InvalidField("end_date", "must be set");
  RECEPTION_ASSIGN_OR_RETURN(absl::CivilDay start, ToCivilDay(r.start_date(), "start_date"));
  RECEPTION_ASSIGN_OR_RETURN(absl::CivilDay end, ToCivilDay(r.end_date(), "end_date"));
  if (end < start) return InvalidField("end_date", "must not be before start_date");
  if (end - start > 366)
    return InvalidField("end_date", "must be at most 366 days after start_date");
  std::vector<Case> rows;
  auto it = d_.store->NewIterator(records_.families().cases);
  CaseRecord rec;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    if (!rec.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return absl::DataLossError("case record does not parse");
    }
    const auto& d = rec.case_().received_date();
    absl::CivilDay day(d.year(), d.month(), d.day());
    if (day < start || day > end) continue;
    rows.push_back(rec.case_());
  }
  std::sort(rows.begin(), rows.end(), [](const Case& a, const Case& b) {
    const std::string da = FormatDate(a.received_date()), db = FormatDate(b.received_date());
    return da != db ? da < db : a.number() < b.number();
  });
  cases::v1::ExportReceptionLogResponse out;
  out.set_csv(RenderReceptionLog(rows));
  out.set_row_count(static_cast<int32_t>(rows.size()));
  return out;
}

}  // namespace reception
