// The case service's part of the oversight page (/oversight on the admin
// port): the subtree as a tree with each unit's open, overdue and at-risk
// cases, pending handoffs and the feeds followed, then the report of the
// chosen period. Read-only; no personal data (counts and unit names).
#include <map>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "services/case/case_service.h"
#include "services/common/admin_page.h"
#include "services/common/civil_date.h"

namespace reception {
namespace {

std::string Cell(int64_t n, const char* cls, bool flag) {
  return absl::StrCat("<td class=\"", cls, flag && n > 0 ? " bad" : "", "\">", n, "</td>");
}

}  // namespace

std::string CaseModule::OversightSection(const Principal& who,
                                         const std::map<std::string, std::string>& query) const {
  const Topology& topology = context_->topology;
  const std::string& self = context_->config.unit_code();
  const absl::CivilDay today = context_->clock->Today();

  // Counts per unit, summed over each unit's subtree.
  const auto counts = registry_->subtree_board()->Counts();
  std::map<std::string, cases::v1::FollowStatus> followed;
  if (follower_) {
    for (auto& f : follower_->Status()) followed[f.unit_code()] = f;
  }
  std::string html =
      "<h2>Địa bàn (the subtree)</h2>\n<table id=\"subtree\"><tr><th>Unit</th><th>Name</th>"
      "<th>Open</th><th>Overdue</th><th>At risk</th><th>Pending handoffs</th>"
      "<th>Oldest handoff (s)</th><th>Feed</th><th>Lag</th><th>Last entry</th></tr>\n";
  std::function<void(const std::string&, int)> row = [&](const std::string& code, int depth) {
    const auto* u = topology.Find(code);
    if (u == nullptr) return;
    if ((!IsUnset(u->valid_from()) && DayOf(u->valid_from()) > today) ||
        (!IsUnset(u->valid_to()) && DayOf(u->valid_to()) < today)) {
      return;  // not in force today
    }
    SubtreeBoard::UnitCounts sum;
    for (const auto& c : counts) {
      if (!topology.IsWithin(c.unit, code)) continue;
      sum.open += c.open;
      sum.overdue += c.overdue;
      sum.at_risk += c.at_risk;
      sum.pending_handoffs += c.pending_handoffs;
      sum.oldest_pending_handoff_seconds =
          std::max(sum.oldest_pending_handoff_seconds, c.oldest_pending_handoff_seconds);
    }
    std::string feed = "<td></td><td></td><td></td>";
    if (auto f = followed.find(code); f != followed.end()) {
      const auto& s = f->second;
      feed =
          absl::StrCat("<td class=\"feed", s.reachable() ? "\">reachable" : " bad\">UNREACHABLE",
                       "</td>", "<td class=\"lag\">", s.lag_entries(), "</td><td>",
                       s.has_last_entry_time()
                           ? absl::FormatTime("%Y-%m-%d %H:%M:%S",
                                              absl::FromUnixSeconds(s.last_entry_time().seconds()),
                                              VietnamTimeZone())
                           : "-",
                       "</td>");
    }
    absl::StrAppend(&html, "<tr data-unit=\"", HtmlEscape(code),
                    "\"><td style=\"padding-left:", 0.3 + 1.5 * depth, "em\">", HtmlEscape(code),
                    "</td><td class=\"name\">", HtmlEscape(u->name()), "</td>",
                    Cell(sum.open, "open", false), Cell(sum.overdue, "overdue", true),
                    Cell(sum.at_risk, "at-risk", false),
                    Cell(sum.pending_handoffs, "pending", false), "<td>",
                    sum.oldest_pending_handoff_seconds, "</td>", feed, "</tr>\n");
    for (const auto& child : topology.Children(code)) row(child, depth + 1);
  };
  row(self, 0);
  absl::StrAppend(&html, "</table>\n");

  // The report of the chosen period.
  cases::v1::GetCaseReportRequest r;
  int y = today.year(), n = today.month();
  r.set_period(cases::v1::CASE_REPORT_PERIOD_MONTH);
  std::string chosen = absl::StrFormat("%04d-%02d", y, n);
  if (auto q = query.find("quarter");
      q != query.end() && q->second.size() == 7 && q->second[5] == 'Q' &&
      absl::SimpleAtoi(q->second.substr(0, 4), &y) && absl::SimpleAtoi(q->second.substr(6), &n)) {
    r.set_period(cases::v1::CASE_REPORT_PERIOD_QUARTER);
    chosen = q->second;
  } else if (auto m = query.find("month"); m != query.end() && m->second.size() == 7 &&
                                           absl::SimpleAtoi(m->second.substr(0, 4), &y) &&
                                           absl::SimpleAtoi(m->second.substr(5), &n)) {
    chosen = m->second;
  }
  r.set_year(y);
  r.set_number(n);
  absl::StrAppend(&html, "<h2>Báo cáo (report) ", HtmlEscape(chosen),
                  "</h2>\n<form method=\"get\"><label>Month <input name=\"month\" "
                  "placeholder=\"YYYY-MM\"></label> <label>or quarter <input name=\"quarter\" "
                  "placeholder=\"YYYY-QN\"></label> <button>Show</button></form>\n");
  auto report = registry_->GetCaseReport(who, r);
  if (!report.ok()) {
    absl::StrAppend(&html, "<p class=\"bad\" id=\"report-error\">",
                    HtmlEscape(report.status().message()), "</p>\n");
    return html;
  }
  absl::StrAppend(&html, "<p id=\"report-period\">", FormatDate(report->from()), " - ",
                  FormatDate(report->to()), "; pending as of ", FormatDate(report->as_of()),
                  report->period_source().empty()
                      ? ""
                      : absl::StrCat("; ", HtmlEscape(report->period_source())),
                  "</p>\n");
  static const std::pair<cases::v1::ReportFigure, const char*> kColumns[] = {
      {cases::v1::REPORT_FIGURE_RECEIVED, "received"},
      {cases::v1::REPORT_FIGURE_ACCEPTED, "accepted"},
      {cases::v1::REPORT_FIGURE_SETTLED_ON_TIME, "settled-on-time"},
      {cases::v1::REPORT_FIGURE_SETTLED_LATE, "settled-late"},
      {cases::v1::REPORT_FIGURE_PENDING_WITHIN_TIME, "pending"},
      {cases::v1::REPORT_FIGURE_PENDING_OVERDUE, "pending-overdue"},
      {cases::v1::REPORT_FIGURE_GUIDED, "guided"},
      {cases::v1::REPORT_FIGURE_TRANSFERRED_OUT, "transferred-out"},
      {cases::v1::REPORT_FIGURE_RECEIVED_ONLINE, "online"},
  };
  absl::StrAppend(&html, "<table id=\"report\"><tr><th>Unit</th><th>Name</th>");
  for (const auto& [f, name] : kColumns) absl::StrAppend(&html, "<th>", name, "</th>");
  absl::StrAppend(&html, "<th>On time %</th></tr>\n");
  auto line = [&](const cases::v1::CaseReportRow& row, bool total) {
    absl::StrAppend(&html, "<tr data-unit=\"", total ? "total" : HtmlEscape(row.unit()), "\"><td>",
                    total ? "TOTAL" : HtmlEscape(row.unit()), "</td><td class=\"name\">",
                    HtmlEscape(row.unit_name()), "</td>");
    for (const auto& [f, name] : kColumns) {
      int64_t v = 0;
      for (const auto& c : row.counts()) {
        if (c.figure() == f && !c.kind() && !c.channel()) v = c.count();
      }
      absl::StrAppend(&html, "<td class=\"", name, "\">", v, "</td>");
    }
    absl::StrAppend(
        &html, "<td>",
        row.has_on_time_percent() ? absl::StrFormat("%.1f", row.on_time_percent()) : "-",
        "</td></tr>\n");
  };
  for (const auto& row : report->rows()) line(row, false);
  line(report->total(), true);
  absl::StrAppend(&html, "</table>\n");
  return html;
}

}  // namespace reception
