// receptionctl: cases (intake, the lifecycle, deadlines, history, the reception log).
#include <fstream>
#include <iostream>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "services/common/civil_date.h"
#include "services/common/clock.h"
#include "tools/receptionctl/cli.h"

namespace receptionctl {

// --letter names-violator,evidence,verifiable: what an anonymous letter
// brings (Law on Denunciations Art 25); "none" for nothing.
v1::AnonymousLetter ParseLetter(const std::string& facts, const std::string& note) {
  v1::AnonymousLetter out;
  out.set_evidence_note(note);
  for (absl::string_view f : absl::StrSplit(facts, ',', absl::SkipEmpty())) {
    if (f == "names-violator") {
      out.set_names_violator(true);
    } else if (f == "evidence") {
      out.set_evidence_provided(true);
    } else if (f == "verifiable") {
      out.set_verifiable(true);
    } else if (f != "none") {
      UsageError(
          absl::StrCat("--letter takes names-violator, evidence, verifiable or none, not ", f));
    }
  }
  return out;
}

void PrintCase(const v1::Case& c) {
  std::cout << c.name() << "  [" << Short(v1::CaseState_Name(c.state()), "CASE_STATE_") << "]\n";
  std::string kind = Short(v1::CaseKind_Name(c.kind()), "CASE_KIND_");
  if (c.complaint_round() != v1::COMPLAINT_ROUND_UNSPECIFIED) {
    absl::StrAppend(&kind, " (",
                    Short(v1::ComplaintRound_Name(c.complaint_round()), "COMPLAINT_ROUND_"),
                    " time)");
  }
  Row("kind", kind);
  Row("channel", Short(v1::Channel_Name(c.channel()), "CHANNEL_") +
                     (c.forwarded_by().empty() ? "" : " from " + c.forwarded_by()));
  Row("received", absl::StrCat(Date(c.received_date()), " at ", c.reception_unit().name(), " (",
                               c.reception_unit().code(), ")"));
  if (c.identity_protected()) {
    Row("petitioners", absl::StrCat(c.petitioner_count(), " (identity protected)"));
  } else if (c.anonymous()) {
    Row("petitioners", "anonymous");
  } else {
    for (const auto& p : c.petitioners()) {
      Row("petitioner",
          absl::StrCat(p.full_name(), p.citizen_id().empty() ? "" : ", " + p.citizen_id(),
                       p.address().empty() ? "" : ", " + p.address()));
    }
    if (!c.representative_citizen_ids().empty()) {
      Row("representatives", absl::StrJoin(c.representative_citizen_ids(), ", "));
    }
  }
  Row("people", absl::StrCat(c.people_count(), c.mass_case() ? " (mass case)" : ""));
  std::string resp = c.respondent().official_name();
  if (!c.respondent().official_position().empty())
    absl::StrAppend(&resp, ", ", c.respondent().official_position());
  if (!c.respondent().unit_code().empty())
    absl::StrAppend(&resp, resp.empty() ? "" : " ", "(unit ", c.respondent().unit_code(), ")");
  Row("respondent", resp);
  Row("content", c.content());
  if (c.has_classification()) {
    Row("classified",
        absl::StrCat(Date(c.classification().date()), ", ",
                     c.classification().within_competence() ? "within" : "outside", " competence, ",
                     Short(v1::Complexity_Name(c.classification().complexity()), "COMPLEXITY_")));
    for (const auto& d : c.classification().complexity_decisions()) {
      Row("complexity",
          absl::StrCat(Date(d.date()), ", ", Short(v1::Complexity_Name(d.from()), "COMPLEXITY_"),
                       " -> ", Short(v1::Complexity_Name(d.to()), "COMPLEXITY_"), " by decision ",
                       d.decision_reference()));
    }
  }
  if (c.has_anonymous_letter()) {
    const auto& l = c.anonymous_letter();
    Row("letter", absl::StrCat(l.names_violator() ? "names the violator" : "names no violator",
                               l.evidence_provided() ? ", with evidence" : ", no evidence",
                               l.verifiable() ? ", verifiable" : ", not verifiable",
                               l.evidence_note().empty() ? "" : ": " + l.evidence_note()));
  }
  if (c.has_acceptance())
    Row("accepted",
        absl::StrCat(Date(c.acceptance().date()), ", notice ", c.acceptance().notice_reference(),
                     c.acceptance().basis().empty() ? "" : "; " + c.acceptance().basis()));
  if (c.has_refusal())
    Row("refused",
        absl::StrCat(Date(c.refusal().date()), ", ",
                     Short(v1::RefusalGround_Name(c.refusal().ground()), "REFUSAL_GROUND_")));
  if (c.has_guidance())
    Row("guided", absl::StrCat(Date(c.guidance().date()), " to ", c.guidance().competent_body()));
  if (c.has_archival())
    Row("archived",
        absl::StrCat(Date(c.archival().date()), ", ",
                     Short(v1::ArchiveReason_Name(c.archival().reason()), "ARCHIVE_REASON_")));
  if (c.has_verification())
    Row("verification",
        absl::StrCat(Date(c.verification().start_date()), " by ", c.verification().verifier()));
  for (const auto& s : c.suspensions()) {
    Row("suspended",
        absl::StrCat(Date(s.start_date()), " .. ", s.has_end_date() ? Date(s.end_date()) : "(open)",
                     ": ", s.reason()));
  }
  if (c.has_decision())
    Row("decided", absl::StrCat(Date(c.decision().date()), ", ",
                                Short(v1::Outcome_Name(c.decision().outcome()), "OUTCOME_"), ", ",
                                c.decision().decision_reference()));
  for (const auto& w : c.withdrawals()) {
    Row(w.partial() ? "partly withdrawn" : "withdrawn",
        absl::StrCat(Date(w.date()), ", ", w.document_reference(),
                     w.partial() ? ": " + w.withdrawn_part() : ""));
  }
  if (c.has_filing_limit()) {
    const auto& f = c.filing_limit();
    std::string line =
        f.has_start_date() ? absl::StrCat("from ", Date(f.start_date())) : "start not recorded";
    if (f.has_due_date()) {
      absl::StrAppend(
          &line, ", ", f.length_days(), " days, last day ", Date(f.due_date()),
          f.met() ? ": filed in time" : absl::StrCat(": FILED ", f.days_late(), " DAY(S) LATE"),
          " [", f.rule_pack(), "/", f.rule_id(), "]");
    }
    if (!f.problem().empty()) absl::StrAppend(&line, " PROBLEM: ", f.problem());
    if (!f.counted_from().empty()) absl::StrAppend(&line, " (counted from ", f.counted_from(), ")");
    Row("filing limit", line);
    for (const auto& d : f.delays()) {
      Row("  delay", absl::StrCat(Short(v1::FilingObstacle_Name(d.obstacle()), "FILING_OBSTACLE_"),
                                  " ", Date(d.start_date()), " to ", Date(d.end_date()), " (",
                                  d.evidence_reference(), ")"));
    }
  }
  for (const auto& r : c.returns()) {
    Row("returned", absl::StrCat(Date(r.date()), " by unit ", r.from_unit(), " to unit ",
                                 r.to_unit(), ": ", r.reason()));
  }
  if (c.has_dispute()) {
    const auto& d = c.dispute();
    Row("dispute",
        absl::StrCat(Short(v1::DisputeState_Name(d.state()), "DISPUTE_STATE_"), ": unit ",
                     d.claimant_unit(), " says unit ", d.disputed_unit(), " is competent",
                     d.automatic() ? " (returned twice)" : "", "; unit ", d.deciding_unit(),
                     " decides; opened ", Date(d.opened_date())));
    if (d.state() == v1::DISPUTE_STATE_RESOLVED) {
      Row("  decided", absl::StrCat(Date(d.decided_date()), ": unit ", d.decided_unit(), " (",
                                    d.legal_basis(), "): ", d.decision_reason()));
    }
  }
  if (c.has_publication()) {
    Row("published", absl::StrCat(Date(c.publication().date()), ", ",
                                  Short(v1::PublicationMethod_Name(c.publication().method()),
                                        "PUBLICATION_METHOD_"),
                                  ", ", c.publication().reference()));
  }
  for (const auto& k : c.clocks()) {
    std::string line =
        absl::StrCat(Short(v1::ClockState_Name(k.state()), "CLOCK_STATE_"), ", ", k.length_days(),
                     " ", k.basis() == v1::DAY_BASIS_WORKING_DAYS ? "working" : "calendar",
                     " days from ", Date(k.start_date()));
    if (k.has_due_date()) absl::StrAppend(&line, ", due ", Date(k.due_date()));
    if (k.has_provisional()) absl::StrAppend(&line, " (provisional)");
    if (k.overdue()) absl::StrAppend(&line, " (OVERDUE)");
    if (k.has_end_date()) absl::StrAppend(&line, ", ended ", Date(k.end_date()));
    if (!k.extensions().empty()) {
      absl::StrAppend(&line, ", extended ", k.extensions_size(), "/", k.max_extensions());
    }
    absl::StrAppend(&line, " [", k.rule_pack(), "/", k.rule_id(), "]");
    if (!k.problem().empty()) absl::StrAppend(&line, " PROBLEM: ", k.problem());
    Row(absl::StrCat("clock ", Short(v1::DeadlineStep_Name(k.step()), "DEADLINE_STEP_")), line);
    if (k.has_provisional()) Row("  provisional", k.provisional().reason());
  }
  Row("owner",
      absl::StrCat(
          "unit ", c.owner_unit(), ", epoch ", c.owner_epoch(),
          c.previous_owner_unit().empty() ? "" : ", came from unit " + c.previous_owner_unit()));
  if (c.has_replica_confirm_time()) {
    Row("copy",
        absl::StrCat("read-only copy; the owner last confirmed it at ",
                     absl::FormatTime("%Y-%m-%d %H:%M",
                                      absl::FromUnixSeconds(c.replica_confirm_time().seconds()),
                                      reception::VietnamTimeZone())));
  }
  if (!c.possible_duplicates().empty()) {
    Row("may repeat", absl::StrJoin(c.possible_duplicates(), ", "));
  }
  if (c.has_first_decision()) {
    const auto& d = c.first_decision();
    Row("first decision", absl::StrCat(d.document_number(), " of ", Date(d.date()), " by ",
                                       d.issued_by(), " (outside the system)"));
  }
  if (const auto& k = c.previous_case_check();
      k.state() != v1::PreviousCaseCheck::STATE_UNSPECIFIED) {
    Row("first-time link",
        absl::StrCat(
            absl::AsciiStrToLower(Short(v1::PreviousCaseCheck::State_Name(k.state()), "STATE_")),
            k.pending() ? " (asked, no answer yet)" : "", " by unit ", k.checked_unit(), ": ",
            k.detail()));
  }
  if (c.subtree_check().state() != v1::SubtreeDuplicateCheck::STATE_UNSPECIFIED) {
    const auto& k = c.subtree_check();
    std::string line = absl::StrCat(
        "against the subtree of unit ", k.checked_unit(), ": ",
        absl::AsciiStrToLower(Short(v1::SubtreeDuplicateCheck::State_Name(k.state()), "STATE_")));
    if (!k.possible_duplicates().empty()) {
      absl::StrAppend(&line, "; may repeat ", absl::StrJoin(k.possible_duplicates(), ", "));
    }
    if (!k.detail().empty()) absl::StrAppend(&line, " (", k.detail(), ")");
    Row("checked", line);
  }
  for (const auto& m : c.minutes()) {
    Row("minutes", absl::StrCat(m.room(), ", locked ",
                                absl::FormatTime("%Y-%m-%d %H:%M",
                                                 absl::FromUnixSeconds(m.lock_time().seconds()),
                                                 reception::VietnamTimeZone())));
    for (absl::string_view line : absl::StrSplit(m.text(), '\n')) {
      if (!line.empty()) std::cout << "      | " << line << "\n";
    }
  }
  Row("etag", c.etag());
  Row("history",
      absl::StrCat(c.history_length(), " events, head ", c.history_head_hash().substr(0, 16)));
}

namespace {

// "obstacle|YYYY-MM-DD|YYYY-MM-DD|evidence[|note]" (--filing-delay).
v1::FilingDelay ParseFilingDelay(const std::string& text) {
  std::vector<std::string> parts = absl::StrSplit(text, absl::MaxSplits('|', 4));
  if (parts.size() < 4) UsageError("--filing-delay must be \"obstacle|FROM|TO|evidence[|note]\"");
  v1::FilingDelay d;
  d.set_obstacle(ParseEnum<v1::FilingObstacle>(parts[0], "FILING_OBSTACLE_",
                                               &v1::FilingObstacle_Parse, "filing-delay"));
  *d.mutable_start_date() = ParseDateOption(parts[1], "filing-delay");
  *d.mutable_end_date() = ParseDateOption(parts[2], "filing-delay");
  d.set_evidence_reference(parts[3]);
  if (parts.size() > 4) d.set_note(parts[4]);
  return d;
}

// --petitioner "full name|citizen ID|address|phone".
void AddPetitioner(const std::string& option, v1::Case* c) {
  std::vector<std::string> parts = absl::StrSplit(option, '|');
  auto* person = c->add_petitioners();
  person->set_full_name(parts.size() > 0 ? parts[0] : "");
  person->set_citizen_id(parts.size() > 1 ? parts[1] : "");
  person->set_address(parts.size() > 2 ? parts[2] : "");
  person->set_phone(parts.size() > 3 ? parts[3] : "");
}

// --attachment "name|media type|size|sha256".
void AddAttachment(const std::string& option, v1::Case* c) {
  std::vector<std::string> parts = absl::StrSplit(option, '|');
  auto* at = c->add_attachments();
  at->set_name(parts.size() > 0 ? parts[0] : "");
  at->set_media_type(parts.size() > 1 ? parts[1] : "");
  int64_t size = 0;
  if (parts.size() > 2 && !absl::SimpleAtoi(parts[2], &size))
    UsageError("--attachment size must be a number");
  at->set_size_bytes(size);
  at->set_sha256(parts.size() > 3 ? parts[3] : "");
}

// Writes `text` to `path` (replacing it); says why not on stderr.
bool WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out) std::cerr << "error: cannot write " << path << "\n";
  return static_cast<bool>(out);
}

}  // namespace

// `lookup NUMBER CODE`: the citizen's status look-up, without credentials.
int LookupCommand(const Args& a) {
  if (a.positional.size() != 2) UsageError("lookup takes a case number and a receipt code");
  auto stub = v1::CaseService::NewStub(ChannelFor(a));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  v1::LookupCaseStatusRequest req;
  req.set_case_number(a.positional[0]);
  req.set_receipt_code(a.positional[1]);
  v1::CaseStatus r;
  grpc::Status s = stub->LookupCaseStatus(&ctx, req, &r);
  if (!s.ok()) return ReportError(s);
  if (a.Has("json")) {
    PrintJson(r);
    return 0;
  }
  Row("case", r.case_number());
  Row("state", Short(v1::CaseState_Name(r.state()), "CASE_STATE_"));
  Row("handled by", absl::StrCat(r.handling_unit().name(), " (", r.handling_unit().code(), ")"));
  Row("next due", r.has_next_due_date() ? Date(r.next_due_date()) : "-");
  Row("late", r.overdue() ? "yes" : "no");
  return 0;
}

int CasesCommand(const Args& a) {
  if (a.command == "lookup") return LookupCommand(a);
  Client client(a);
  const bool json = a.Has("json");
  auto out_case = [&](const v1::Case& c) {
    json ? PrintJson(c) : PrintCase(c);
    return 0;
  };
  auto etag_date = [&](auto* req) {
    req->set_name(CaseName(a));
    req->set_etag(a.GetOr("etag", ""));
  };
  auto date_of = [&](auto* req) {
    if (auto d = a.Get("date")) *req->mutable_date() = ParseDateOption(*d, "date");
  };
  const std::string& cmd = a.command;

  if (cmd == "create") {
    v1::CreateCaseRequest req;
    auto* c = req.mutable_case_();
    c->set_kind(
        ParseEnum<v1::CaseKind>(a.GetOr("kind", ""), "CASE_KIND_", &v1::CaseKind_Parse, "kind"));
    if (auto r = a.Get("round"))
      c->set_complaint_round(ParseEnum<v1::ComplaintRound>(*r, "COMPLAINT_ROUND_",
                                                           &v1::ComplaintRound_Parse, "round"));
    c->set_previous_case(a.GetOr("previous", ""));
    if (auto fd = a.Get("first-decision")) {
      // "number|YYYY-MM-DD|issued by"
      std::vector<std::string> parts = absl::StrSplit(*fd, absl::MaxSplits('|', 2));
      if (parts.size() != 3) {
        UsageError("--first-decision takes \"document number|YYYY-MM-DD|issued by\"");
      }
      auto* d = c->mutable_first_decision();
      d->set_document_number(parts[0]);
      *d->mutable_date() = ParseDateOption(parts[1], "first-decision");
      d->set_issued_by(parts[2]);
    }
    c->set_repeats_case(a.GetOr("repeats", ""));
    c->set_anonymous(a.Has("anonymous"));
    if (a.Get("letter") || a.Get("evidence-note")) {
      *c->mutable_anonymous_letter() =
          ParseLetter(a.GetOr("letter", ""), a.GetOr("evidence-note", ""));
    }
    c->set_channel(
        ParseEnum<v1::Channel>(a.GetOr("channel", ""), "CHANNEL_", &v1::Channel_Parse, "channel"));
    c->set_forwarded_by(a.GetOr("forwarded-by", ""));
    for (const auto& p : a.All("petitioner")) AddPetitioner(p, c);
    for (const auto& r : a.All("representative")) c->add_representative_citizen_ids(r);
    if (auto n = a.Get("people")) {
      int people = 0;
      if (!absl::SimpleAtoi(*n, &people)) UsageError("--people must be a number");
      c->set_people_count(people);
    }
    c->mutable_respondent()->set_unit_code(a.GetOr("respondent-unit", ""));
    c->mutable_respondent()->set_official_name(a.GetOr("respondent-official", ""));
    c->mutable_respondent()->set_official_position(a.GetOr("respondent-position", ""));
    c->mutable_respondent()->set_head_of_unit(a.Has("head-of-unit"));
    c->mutable_respondent()->set_act_reference(a.GetOr("act-reference", ""));
    if (auto d = a.Get("act-date"))
      *c->mutable_respondent()->mutable_act_date() = ParseDateOption(*d, "act-date");
    if (auto d = a.Get("filing-start"))
      *c->mutable_filing_limit()->mutable_start_date() = ParseDateOption(*d, "filing-start");
    for (const auto& d : a.All("filing-delay"))
      *c->mutable_filing_limit()->add_delays() = ParseFilingDelay(d);
    c->set_content(a.GetOr("content", ""));
    for (const auto& att : a.All("attachment")) AddAttachment(att, c);
    if (auto u = a.Get("reception-unit")) c->mutable_reception_unit()->set_code(*u);
    if (auto d = a.Get("received")) *c->mutable_received_date() = ParseDateOption(*d, "received");
    c->set_previously_handled_by(a.GetOr("previously-handled-by", ""));
    // A fresh request id per invocation unless the caller pins one to retry.
    req.set_request_id(RequestId(a));
    return out_case(client.Call(&v1::CaseService::Stub::CreateCase, req));
  }
  if (cmd == "get") {
    v1::GetCaseRequest req;
    req.set_name(CaseName(a));
    return out_case(client.Call(&v1::CaseService::Stub::GetCase, req));
  }
  if (cmd == "list" || cmd == "overdue") {
    v1::ListCasesRequest req;
    if (auto d = a.Get("due-before")) *req.mutable_due_before() = ParseDateOption(*d, "due-before");
    req.set_overdue(a.Has("overdue") || cmd == "overdue");
    req.set_awaiting_jurisdiction_decision(a.Has("awaiting-decision"));
    if (auto n = a.Get("at-risk")) {
      int days = 0;
      if (!absl::SimpleAtoi(*n, &days)) UsageError("--at-risk must be a number of working days");
      req.set_at_risk_working_days(days);
    }
    req.set_order_by(cmd == "overdue" ? "due_date" : a.GetOr("order-by", ""));
    if (auto s = a.Get("state"))
      req.set_state(ParseEnum<v1::CaseState>(*s, "CASE_STATE_", &v1::CaseState_Parse, "state"));
    if (auto k = a.Get("kind"))
      req.set_kind(ParseEnum<v1::CaseKind>(*k, "CASE_KIND_", &v1::CaseKind_Parse, "kind"));
    req.set_unit_code(a.GetOr("unit-code", ""));
    if (a.Has("subtree")) req.set_scope(v1::LIST_SCOPE_SUBTREE);
    req.set_within_unit(a.GetOr("within", ""));
    if (auto d = a.Get("from")) *req.mutable_received_from() = ParseDateOption(*d, "from");
    if (auto d = a.Get("to")) *req.mutable_received_to() = ParseDateOption(*d, "to");
    req.set_query(a.GetOr("query", ""));
    req.set_page_token(a.GetOr("page-token", ""));
    if (auto n = a.Get("page-size")) {
      int size = 0;
      if (!absl::SimpleAtoi(*n, &size)) UsageError("--page-size must be a number");
      req.set_page_size(size);
    }
    v1::ListCasesResponse all;
    for (;;) {
      v1::ListCasesResponse page = client.Call(&v1::CaseService::Stub::ListCases, req);
      for (auto& c : *page.mutable_cases()) *all.add_cases() = std::move(c);
      all.set_next_page_token(page.next_page_token());
      if ((!a.Has("all") && cmd != "overdue") || page.next_page_token().empty()) break;
      req.set_page_token(page.next_page_token());
    }
    if (json) {
      PrintJson(all);
      return 0;
    }
    std::cout << absl::StrFormat("%-20s %-13s %-11s %-10s %-8s %-8s %-11s %-14s %-9s %s\n",
                                 "NUMBER", "KIND", "STATE", "RECEIVED", "UNIT", "OWNER", "DUE",
                                 "STEP", "VIA", "PETITIONERS");
    for (const auto& c : all.cases()) {
      std::string who;
      if (c.identity_protected())
        who = "(protected)";
      else if (c.anonymous())
        who = "(anonymous)";
      else {
        std::vector<std::string> names;
        for (const auto& p : c.petitioners()) names.push_back(p.full_name());
        who = absl::StrJoin(names, ", ");
      }
      std::string due = c.has_due_date() ? Date(c.due_date()) : "-";
      if (c.overdue()) due += "!";
      std::string step = "-";
      for (const auto& k : c.clocks()) {
        if (k.state() == v1::CLOCK_STATE_RUNNING && k.has_due_date() &&
            Date(k.due_date()) == Date(c.due_date())) {
          step = Short(v1::DeadlineStep_Name(k.step()), "DEADLINE_STEP_");
          break;
        }
      }
      // VIA: the followed node a replica came through ("-": held here).
      std::cout << absl::StrFormat("%-20s %-13s %-11s %-10s %-8s %-8s %-11s %-14s %-9s %s\n",
                                   c.number(), Short(v1::CaseKind_Name(c.kind()), "CASE_KIND_"),
                                   Short(v1::CaseState_Name(c.state()), "CASE_STATE_"),
                                   Date(c.received_date()), c.reception_unit().code(),
                                   c.owner_unit(), due, step,
                                   c.has_replica() ? c.replica().via_unit() : "-", who);
    }
    if (!all.next_page_token().empty())
      std::cout << "next page: --page-token " << all.next_page_token() << "\n";
    return 0;
  }
  if (cmd == "complexity") {
    v1::DeclareCaseComplexityRequest req;
    etag_date(&req);
    date_of(&req);
    req.set_complexity(ParseEnum<v1::Complexity>(a.GetOr("complexity", ""), "COMPLEXITY_",
                                                 &v1::Complexity_Parse, "complexity"));
    req.set_decision_reference(a.GetOr("decision", ""));
    req.set_note(a.GetOr("note", ""));
    return out_case(client.Call(&v1::CaseService::Stub::DeclareCaseComplexity, req));
  }
  if (cmd == "extend") {
    v1::ExtendCaseDeadlineRequest req;
    etag_date(&req);
    date_of(&req);
    req.set_step(ParseEnum<v1::DeadlineStep>(a.GetOr("step", "settle"), "DEADLINE_STEP_",
                                             &v1::DeadlineStep_Parse, "step"));
    req.set_decision_reference(a.GetOr("decision", ""));
    int days = 0;
    if (!absl::SimpleAtoi(a.GetOr("days", ""), &days)) UsageError("extend needs --days N");
    req.set_days(days);
    return out_case(client.Call(&v1::CaseService::Stub::ExtendCaseDeadline, req));
  }
  if (cmd == "deadlines") {
    if (a.positional.empty() || a.positional[0] != "preview")
      UsageError("usage: deadlines preview ...");
    v1::PreviewDeadlinesRequest req;
    if (auto k = a.Get("kind"))
      req.set_kind(ParseEnum<v1::CaseKind>(*k, "CASE_KIND_", &v1::CaseKind_Parse, "kind"));
    if (auto r = a.Get("round"))
      req.set_complaint_round(ParseEnum<v1::ComplaintRound>(*r, "COMPLAINT_ROUND_",
                                                            &v1::ComplaintRound_Parse, "round"));
    if (auto c = a.Get("complexity"))
      req.set_complexity(
          ParseEnum<v1::Complexity>(*c, "COMPLEXITY_", &v1::Complexity_Parse, "complexity"));
    req.set_unit_code(a.GetOr("unit-code", ""));
    if (auto d = a.Get("received")) *req.mutable_received_date() = ParseDateOption(*d, "received");
    if (auto d = a.Get("accepted")) *req.mutable_accepted_date() = ParseDateOption(*d, "accepted");
    auto resp = client.Call(&v1::CaseService::Stub::PreviewDeadlines, req);
    if (json) {
      PrintJson(resp);
      return 0;
    }
    std::cout << absl::StrFormat("%-14s %-11s %-11s %-11s %s\n", "STEP", "FROM", "DUE", "LATEST",
                                 "RULE");
    for (const auto& d : resp.deadlines()) {
      std::cout << absl::StrFormat("%-14s %-11s %-11s %-11s %s/%s\n",
                                   Short(v1::DeadlineStep_Name(d.step()), "DEADLINE_STEP_"),
                                   Date(d.start_date()) + (d.start_date_assumed() ? "*" : ""),
                                   Date(d.due_date()) + (d.has_provisional() ? "~" : ""),
                                   Date(d.latest_due_date()) + (d.has_provisional() ? "~" : ""),
                                   d.rule_pack(), d.rule_id());
      std::cout << "    " << d.explanation() << (d.condition().empty() ? "" : "; " + d.condition())
                << "\n";
      if (!d.problem().empty()) std::cout << "    PROBLEM: " << d.problem() << "\n";
    }
    std::cout << "(calendar: " << resp.calendar()
              << "; * = assumed date; ~ = provisional: counted on days off "
                 "not yet published)\n";
    return 0;
  }
  if (cmd == "classify") {
    v1::ClassifyCaseRequest req;
    etag_date(&req);
    date_of(&req);
    const std::string competent = a.GetOr("competent", "");
    if (competent != "yes" && competent != "no") UsageError("classify needs --competent yes|no");
    req.set_within_competence(competent == "yes");
    if (auto k = a.Get("kind"))
      req.set_kind(ParseEnum<v1::CaseKind>(*k, "CASE_KIND_", &v1::CaseKind_Parse, "kind"));
    if (auto c = a.Get("complexity"))
      req.set_complexity(
          ParseEnum<v1::Complexity>(*c, "COMPLEXITY_", &v1::Complexity_Parse, "complexity"));
    req.set_note(a.GetOr("note", ""));
    if (auto d = a.Get("filing-start"))
      *req.mutable_filing_start_date() = ParseDateOption(*d, "filing-start");
    for (const auto& d : a.All("filing-delay")) *req.add_filing_delays() = ParseFilingDelay(d);
    if (a.Get("letter") || a.Get("evidence-note")) {
      *req.mutable_anonymous_letter() =
          ParseLetter(a.GetOr("letter", ""), a.GetOr("evidence-note", ""));
    }
    return out_case(client.Call(&v1::CaseService::Stub::ClassifyCase, req));
  }
  if (cmd == "accept") {
    v1::AcceptCaseRequest req;
    etag_date(&req);
    date_of(&req);
    req.set_notice_reference(a.GetOr("notice", ""));
    return out_case(client.Call(&v1::CaseService::Stub::AcceptCase, req));
  }
  if (cmd == "refuse") {
    v1::RefuseCaseRequest req;
    etag_date(&req);
    date_of(&req);
    req.set_ground(ParseEnum<v1::RefusalGround>(a.GetOr("ground", ""), "REFUSAL_GROUND_",
                                                &v1::RefusalGround_Parse, "ground"));
    req.set_explanation(a.GetOr("explanation", ""));
    req.set_notice_reference(a.GetOr("notice", ""));
    return out_case(client.Call(&v1::CaseService::Stub::RefuseCase, req));
  }
  if (cmd == "guide") {
    v1::GuideCaseRequest req;
    etag_date(&req);
    date_of(&req);
    req.set_competent_body(a.GetOr("body", ""));
    req.set_note(a.GetOr("note", ""));
    return out_case(client.Call(&v1::CaseService::Stub::GuideCase, req));
  }
  if (cmd == "archive") {
    v1::ArchiveCaseRequest req;
    etag_date(&req);
    date_of(&req);
    req.set_reason(ParseEnum<v1::ArchiveReason>(a.GetOr("reason", ""), "ARCHIVE_REASON_",
                                                &v1::ArchiveReason_Parse, "reason"));
    req.set_duplicate_of(a.GetOr("duplicate-of", ""));
    req.set_note(a.GetOr("note", ""));
    return out_case(client.Call(&v1::CaseService::Stub::ArchiveCase, req));
  }
  if (cmd == "start-verification") {
    v1::StartCaseVerificationRequest req;
    etag_date(&req);
    date_of(&req);
    req.set_verifier(a.GetOr("verifier", ""));
    return out_case(client.Call(&v1::CaseService::Stub::StartCaseVerification, req));
  }
  if (cmd == "suspend") {
    v1::SuspendCaseRequest req;
    etag_date(&req);
    date_of(&req);
    req.set_reason(a.GetOr("reason", ""));
    req.set_evidence_reference(a.GetOr("evidence", ""));
    return out_case(client.Call(&v1::CaseService::Stub::SuspendCase, req));
  }
  if (cmd == "resume") {
    v1::ResumeCaseRequest req;
    etag_date(&req);
    date_of(&req);
    return out_case(client.Call(&v1::CaseService::Stub::ResumeCase, req));
  }
  if (cmd == "decide") {
    v1::DecideCaseRequest req;
    etag_date(&req);
    date_of(&req);
    req.set_outcome(
        ParseEnum<v1::Outcome>(a.GetOr("outcome", ""), "OUTCOME_", &v1::Outcome_Parse, "outcome"));
    req.set_decision_reference(a.GetOr("decision", ""));
    req.set_summary(a.GetOr("summary", ""));
    return out_case(client.Call(&v1::CaseService::Stub::DecideCase, req));
  }
  if (cmd == "publish") {
    v1::PublishDecisionRequest req;
    etag_date(&req);
    date_of(&req);
    req.set_method(ParseEnum<v1::PublicationMethod>(a.GetOr("method", ""), "PUBLICATION_METHOD_",
                                                    &v1::PublicationMethod_Parse, "method"));
    req.set_reference(a.GetOr("reference", ""));
    return out_case(client.Call(&v1::CaseService::Stub::PublishDecision, req));
  }
  if (cmd == "update") {
    // Each option given is a field to correct (UpdateCase's update_mask); a
    // repeated one replaces the whole list.
    v1::UpdateCaseRequest req;
    auto* c = req.mutable_case_();
    c->set_name(CaseName(a));
    c->set_etag(a.GetOr("etag", ""));
    req.set_reason(a.GetOr("reason", ""));
    auto* mask = req.mutable_update_mask();
    if (a.Get("petitioner")) {
      for (const auto& p : a.All("petitioner")) AddPetitioner(p, c);
      mask->add_paths("petitioners");
    }
    if (a.Get("representative")) {
      for (const auto& r : a.All("representative")) c->add_representative_citizen_ids(r);
      mask->add_paths("representative_citizen_ids");
    }
    if (a.Get("attachment")) {
      for (const auto& att : a.All("attachment")) AddAttachment(att, c);
      mask->add_paths("attachments");
    }
    if (auto v = a.Get("content")) {
      c->set_content(*v);
      mask->add_paths("content");
    }
    if (auto v = a.Get("previously-handled-by")) {
      c->set_previously_handled_by(*v);
      mask->add_paths("previously_handled_by");
    }
    if (auto v = a.Get("respondent-official")) {
      c->mutable_respondent()->set_official_name(*v);
      mask->add_paths("respondent.official_name");
    }
    if (auto v = a.Get("respondent-position")) {
      c->mutable_respondent()->set_official_position(*v);
      mask->add_paths("respondent.official_position");
    }
    if (auto v = a.Get("act-reference")) {
      c->mutable_respondent()->set_act_reference(*v);
      mask->add_paths("respondent.act_reference");
    }
    if (auto v = a.Get("act-date")) {
      *c->mutable_respondent()->mutable_act_date() = ParseDateOption(*v, "act-date");
      mask->add_paths("respondent.act_date");
    }
    if (mask->paths().empty()) {
      UsageError("update needs at least one field to correct (--petitioner, --content, ...)");
    }
    return out_case(client.Call(&v1::CaseService::Stub::UpdateCase, req));
  }
  if (cmd == "close") {
    v1::CloseCaseRequest req;
    etag_date(&req);
    return out_case(client.Call(&v1::CaseService::Stub::CloseCase, req));
  }
  if (cmd == "withdraw") {
    v1::WithdrawCaseRequest req;
    etag_date(&req);
    date_of(&req);
    req.set_partial(a.Has("partial"));
    req.set_withdrawn_part(a.GetOr("part", ""));
    req.set_reason(a.GetOr("reason", ""));
    req.set_document_reference(a.GetOr("document", ""));
    return out_case(client.Call(&v1::CaseService::Stub::WithdrawCase, req));
  }
  if (cmd == "history") {
    v1::GetCaseHistoryRequest req;
    req.set_name(CaseName(a));
    v1::GetCaseHistoryResponse all;
    for (;;) {
      auto page = client.Call(&v1::CaseService::Stub::GetCaseHistory, req);
      for (auto& e : *page.mutable_events()) *all.add_events() = std::move(e);
      if (page.next_page_token().empty()) break;
      req.set_page_token(page.next_page_token());
    }
    if (json) {
      PrintJson(all);
      return 0;
    }
    for (const auto& e : all.events()) {
      const absl::Time t = absl::FromUnixSeconds(e.time().seconds());
      std::cout << absl::StrFormat(
          "%3d  %s  %-24s %-10s %s/%s  %s\n", e.sequence(),
          absl::FormatTime("%Y-%m-%d %H:%M:%S", t, absl::FixedTimeZone(7 * 3600)), e.action(),
          Short(v1::CaseState_Name(e.state()), "CASE_STATE_"), e.actor().role(),
          e.actor().subject(), e.summary());
    }
    return 0;
  }
  if (cmd == "verify") {
    v1::VerifyCaseHistoryRequest req;
    req.set_name(CaseName(a));
    auto r = client.Call(&v1::CaseService::Stub::VerifyCaseHistory, req);
    if (json) {
      PrintJson(r);
    } else if (r.valid()) {
      std::cout << "history of " << req.name() << " verifies: " << r.event_count()
                << " events, head " << r.head_hash() << "\n";
    } else {
      std::cout << "history of " << req.name() << " does NOT verify at event "
                << r.first_invalid_sequence() << ": " << r.problem() << "\n";
    }
    return r.valid() ? 0 : 3;
  }
  if (cmd == "reveal") {
    v1::RevealDenouncerIdentityRequest req;
    req.set_name(CaseName(a));
    req.set_reason(a.GetOr("reason", ""));
    auto r = client.Call(&v1::CaseService::Stub::RevealDenouncerIdentity, req);
    if (json) {
      PrintJson(r);
      return 0;
    }
    for (const auto& p : r.petitioners()) {
      std::cout << "  " << p.full_name() << ", " << p.citizen_id() << ", " << p.address() << "\n";
    }
    std::cout << "(recorded as audit event " << r.audit_event_sequence() << ")\n";
    return 0;
  }
  if (cmd == "report") {
    v1::GetCaseReportRequest req;
    req.set_unit(a.GetOr("for-unit", ""));
    int y = 0, n = 0;
    // "YYYY-MM", or "YYYY-" and the letter and one digit ("2026-Q1").
    auto year_and = [&](const std::string& v, char letter) {
      return v.size() == 7 && absl::SimpleAtoi(v.substr(0, 4), &y) &&
             (letter == 0 ? v[4] == '-' && absl::SimpleAtoi(v.substr(5), &n)
                          : v[4] == '-' && v[5] == letter && absl::SimpleAtoi(v.substr(6), &n));
    };
    if (auto m = a.Get("month"); m && year_and(*m, 0)) {
      req.set_period(v1::CASE_REPORT_PERIOD_MONTH);
    } else if (auto q = a.Get("quarter"); q && year_and(*q, 'Q')) {
      req.set_period(v1::CASE_REPORT_PERIOD_QUARTER);
    } else if (auto h = a.Get("half"); h && year_and(*h, 'H')) {
      req.set_period(v1::CASE_REPORT_PERIOD_HALF_YEAR);
    } else if (auto nm = a.Get("nine-months"); nm && absl::SimpleAtoi(*nm, &y)) {
      req.set_period(v1::CASE_REPORT_PERIOD_NINE_MONTHS);
    } else if (auto yr = a.Get("year"); yr && absl::SimpleAtoi(*yr, &y)) {
      req.set_period(v1::CASE_REPORT_PERIOD_YEAR);
    } else {
      UsageError(
          "report needs --month YYYY-MM, --quarter YYYY-QN, --half YYYY-HN, --nine-months YYYY "
          "or --year YYYY");
    }
    req.set_year(y);
    req.set_number(n);
    req.set_csv(a.Has("csv") || a.Has("output"));
    auto r = client.Call(&v1::CaseService::Stub::GetCaseReport, req);
    if (auto figure = a.Get("open")) {
      // The cases behind one count: the row's own ListCases request.
      // A row of the report, or any unit of the subtree (its cases and
      // those below it); without --row, the total.
      v1::ListCasesRequest lr = r.total().list_request();
      if (auto row_unit = a.Get("row")) {
        bool found = false;
        for (const auto& x : r.rows()) {
          if (x.unit() == *row_unit) {
            lr = x.list_request();
            found = true;
          }
        }
        if (!found) lr.set_within_unit(*row_unit);
      }
      lr.set_report_figure(
          ParseEnum<v1::ReportFigure>(*figure, "REPORT_FIGURE_", &v1::ReportFigure_Parse, "open"));
      v1::ListCasesResponse all;
      for (;;) {
        auto page = client.Call(&v1::CaseService::Stub::ListCases, lr);
        for (auto& c : *page.mutable_cases()) *all.add_cases() = std::move(c);
        if (page.next_page_token().empty()) break;
        lr.set_page_token(page.next_page_token());
      }
      if (json) return PrintJson(all), 0;
      for (const auto& c : all.cases()) {
        std::cout << c.name() << "  " << Short(v1::CaseState_Name(c.state()), "CASE_STATE_")
                  << "  received at " << c.reception_unit().code() << ", owner " << c.owner_unit()
                  << "\n";
      }
      std::cerr << all.cases_size() << " case(s)\n";
      return 0;
    }
    if (auto path = a.Get("output")) {
      if (!WriteFile(*path, r.csv())) return 1;
      std::cerr << r.rows_size() << " rows and the total written to " << *path << "\n";
      return 0;
    }
    if (json) return PrintJson(r), 0;
    if (a.Has("csv")) return std::cout << r.csv(), 0;
    std::cout << "unit " << r.unit() << ", " << reception::FormatDate(r.from()) << " - "
              << reception::FormatDate(r.to()) << " (pending as of "
              << reception::FormatDate(r.as_of()) << ")";
    if (!r.period_source().empty()) std::cout << "; " << r.period_source();
    std::cout << "\n";
    if (r.stale_units_size() > 0) {
      std::cout << "NOT CURRENT (as last applied): " << absl::StrJoin(r.stale_units(), ", ")
                << "\n";
    }
    std::cout << absl::StrFormat("%-10s %-26s %8s %8s %8s %8s %8s %8s %8s %8s\n", "UNIT", "NAME",
                                 "RECEIVED", "ACCEPTED", "ON TIME", "LATE", "PENDING", "OVERDUE",
                                 "GUIDED", "ON TIME%");
    auto line = [&](const v1::CaseReportRow& row, const std::string& label) {
      auto get = [&](v1::ReportFigure f) {
        for (const auto& c : row.counts()) {
          if (c.figure() == f && c.kind() == 0 && c.channel() == 0) return c.count();
        }
        return int64_t{0};
      };
      std::cout << absl::StrFormat(
          "%-10s %-26s %8d %8d %8d %8d %8d %8d %8d %8s\n", label, row.unit_name().substr(0, 26),
          get(v1::REPORT_FIGURE_RECEIVED), get(v1::REPORT_FIGURE_ACCEPTED),
          get(v1::REPORT_FIGURE_SETTLED_ON_TIME), get(v1::REPORT_FIGURE_SETTLED_LATE),
          get(v1::REPORT_FIGURE_PENDING_WITHIN_TIME), get(v1::REPORT_FIGURE_PENDING_OVERDUE),
          get(v1::REPORT_FIGURE_GUIDED),
          row.has_on_time_percent() ? absl::StrFormat("%.1f", row.on_time_percent()) : "-");
    };
    for (const auto& row : r.rows()) line(row, row.unit());
    line(r.total(), "TOTAL");
    return 0;
  }
  if (cmd == "document") {
    // document NAME KIND [--room rooms/ID] [-o FILE]
    if (a.positional.size() != 2) UsageError("document takes a case and a paper kind");
    v1::GetCaseDocumentRequest req;
    req.set_name(CaseName(a));
    std::string kind = a.positional[1];
    for (char& ch : kind) ch = ch == '-' ? '_' : ch;
    req.set_kind(
        ParseEnum<v1::DocumentKind>(kind, "DOCUMENT_KIND_", &v1::DocumentKind_Parse, "KIND"));
    req.set_room(a.GetOr("room", ""));
    auto r = client.Call(&v1::CaseService::Stub::GetCaseDocument, req);
    const std::string path = a.GetOr("output", r.file_name());
    if (!WriteFile(path, r.content())) return 1;
    if (json) {
      r.clear_content();
      PrintJson(r);
    } else {
      std::cout << path << ": " << r.page_count() << " page(s), form " << r.form() << ", no. "
                << r.number() << ", dated " << Date(r.date()) << "\n"
                << "sha256 " << r.sha256()
                << (!r.newly_issued() ? " (issued before: the same paper)\n"
                    : r.kind() == v1::DOCUMENT_KIND_TRANSFER_SLIP
                        ? " (issued now, recorded on the handoff)\n"
                        : " (issued now, recorded in the case history)\n");
    }
    return 0;
  }
  if (cmd == "export") {
    v1::ExportReceptionLogRequest req;
    *req.mutable_start_date() = ParseDateOption(a.GetOr("from", ""), "from");
    *req.mutable_end_date() = ParseDateOption(a.GetOr("to", ""), "to");
    auto r = client.Call(&v1::CaseService::Stub::ExportReceptionLog, req);
    if (auto path = a.Get("output")) {
      if (!WriteFile(*path, r.csv())) return 1;
      std::cerr << r.row_count() << " rows written to " << *path << "\n";
    } else {
      std::cout << r.csv();
    }
    return 0;
  }
  UsageError(absl::StrCat("unknown command \"", cmd, "\""));
}

}  // namespace receptionctl
