#include "services/case/case_documents.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "prometheus/counter.h"
#include "prometheus/registry.h"
#include "services/case/audit_chain.h"
#include "services/case/intake.h"
#include "services/common/civil_date.h"
#include "services/common/logging.h"
#include "services/common/status.h"
#include "services/documents/case_papers.h"
#include "services/documents/form_book.h"

namespace reception {
namespace {

using cases::v1::Case;
using cases::v1::CaseDocument;

bool HasDocument(const google::protobuf::RepeatedPtrField<cases::v1::IssuedDocument>& docs,
                 cases::v1::DocumentKind kind, const std::string& sha) {
  return std::any_of(docs.begin(), docs.end(), [&](const cases::v1::IssuedDocument& d) {
    return d.kind() == kind && d.sha256() == sha;
  });
}

absl::Status NoMatchingReceipt() {
  // One message for both causes: nothing tells a wrong code from an unknown
  // number.
  return WithReason(absl::NotFoundError("no case matches this case number and receipt code; "
                                        "check both against the receipt"),
                    "NO_MATCHING_RECEIPT");
}

}  // namespace

CaseDocuments::CaseDocuments(const CaseDeps& deps, CaseRecords& records)
    : d_(deps), records_(records) {
  if (d_.metrics == nullptr) return;
  issued_ = &prometheus::BuildCounter()
                 .Name("reception_documents_issued_total")
                 .Help("Papers issued for the first time (each recorded with its hash), by kind")
                 .Register(*d_.metrics);
  lookups_ = &prometheus::BuildCounter()
                  .Name("reception_status_lookups_total")
                  .Help(
                      "Public status look-ups by result: found, not_found (a wrong code or an "
                      "unknown number, told apart by nothing), invalid, limited")
                  .Register(*d_.metrics);
}

void CaseDocuments::CountLookup(const char* result) const {
  if (lookups_ != nullptr) lookups_->Add({{"result", result}}).Increment();
}

std::string CaseDocuments::PrintedReceiptCode(absl::string_view number) const {
  const std::string code = d_.node_key->ReceiptCode(number);
  return absl::StrCat(code.substr(0, 4), "-", code.substr(4, 4), "-", code.substr(8));
}

absl::StatusOr<std::optional<cases::storage::HandoffRecord>> CaseDocuments::LatestOutgoing(
    const std::string& number) const {
  std::optional<cases::storage::HandoffRecord> best;
  const std::string name = absl::StrCat("cases/", number);
  auto it = d_.store->NewIterator(records_.families().handoffs);
  cases::storage::HandoffRecord hr;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    if (!hr.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return absl::DataLossError("handoff record does not parse");
    }
    const auto& h = hr.handoff();
    if (!h.outgoing() || h.case_() != name) continue;
    if (!best || std::make_pair(h.create_time().seconds(), h.create_time().nanos()) >
                     std::make_pair(best->handoff().create_time().seconds(),
                                    best->handoff().create_time().nanos())) {
      best = hr;
    }
  }
  return best;
}

void CaseDocuments::GetCaseDocument(const Principal& p, const cases::v1::GetCaseDocumentRequest& r,
                                    absl::AnyInvocable<void(absl::StatusOr<CaseDocument>)> done) {
  auto number = ParseCaseName(r.name(), "name");
  if (!number.ok()) return done(number.status());
  if (!cases::v1::DocumentKind_IsValid(r.kind()) ||
      r.kind() == cases::v1::DOCUMENT_KIND_UNSPECIFIED) {
    return done(InvalidField("kind", "must be a document kind (DOCUMENT_KIND_RECEIPT, ...)"));
  }
  if (!r.room().empty()) {
    absl::string_view room = r.room();
    if (r.kind() != cases::v1::DOCUMENT_KIND_MINUTES) {
      return done(InvalidField("room", "is only for DOCUMENT_KIND_MINUTES"));
    }
    if (!absl::ConsumePrefix(&room, "rooms/") || room.empty() || room.size() > 40) {
      return done(InvalidField("room", "must be rooms/{room_id}"));
    }
  }
  if (d_.forms == nullptr) {
    return done(WithReason(absl::FailedPreconditionError(
                               "this node has no form templates (documents.forms_file in its "
                               "configuration), so it issues no papers"),
                           "NO_FORM_IN_FORCE"));
  }
  auto rec = records_.Load(nullptr, *number);
  if (!rec.ok()) return done(rec.status());
  if (!*rec) return done(CaseNotFound(*number));
  Case& c = *(*rec)->mutable_case_();
  // A person of a unit below (a bridge point) gets the papers of what was
  // received there.
  if (p.role != Role::kNode && p.unit_code != d_.unit_code &&
      d_.topology->IsWithin(p.unit_code, d_.unit_code) &&
      !d_.topology->IsWithin(c.reception_unit().code(), p.unit_code)) {
    return done(absl::PermissionDeniedError(absl::StrCat(
        "unit ", p.unit_code, " gets on this node only the papers of cases received at it; ",
        r.name(), " was received at unit ", c.reception_unit().code())));
  }
  const bool transfer = r.kind() == cases::v1::DOCUMENT_KIND_TRANSFER_SLIP;
  if (!transfer && c.owner_unit() != d_.unit_code) {
    return done(WithReason(
        absl::FailedPreconditionError(absl::StrCat(
            "cases/", *number, " is owned by unit ", c.owner_unit(),
            "; its papers are issued by that unit's node (this one issues only the transfer "
            "slip of a case it handed on)")),
        "NOT_OWNER"));
  }
  std::optional<cases::storage::HandoffRecord> handoff;
  if (transfer) {
    auto latest = LatestOutgoing(*number);
    if (!latest.ok()) return done(latest.status());
    handoff = std::move(*latest);
  }

  documents::PaperContext ctx;
  ctx.topology = d_.topology;
  ctx.unit_code = d_.unit_code;
  ctx.handoff = handoff ? &handoff->handoff() : nullptr;
  ctx.room = r.room();
  if (r.kind() == cases::v1::DOCUMENT_KIND_RECEIPT) {
    const std::string code = d_.node_key->ReceiptCode(*number);
    ctx.receipt_code = PrintedReceiptCode(*number);
    ctx.lookup_address = d_.lookup_url;
    ctx.lookup_payload =
        d_.lookup_url.empty()
            ? absl::StrCat("case=", *number, ";code=", code, ";unit=", d_.unit_code)
            : absl::StrCat(d_.lookup_url, d_.lookup_url.find('?') == std::string::npos ? "?" : "&",
                           "case=", *number, "&code=", code);
  }
  auto paper = documents::BuildCasePaper(r.kind(), c, ctx, *d_.forms);
  if (!paper.ok()) return done(paper.status());
  auto pdf = documents::RenderPdf(paper->paper);
  if (!pdf.ok()) return done(pdf.status());

  auto doc = std::make_shared<CaseDocument>();
  doc->set_kind(r.kind());
  doc->set_form(paper->form->id());
  doc->set_media_type("application/pdf");
  doc->set_sha256(Sha256Hex(pdf->bytes));
  *doc->mutable_date() = ToProtoDate(paper->date);
  doc->set_number(paper->number);
  doc->set_file_name(absl::StrCat(*number, "-", documents::DocumentSlug(r.kind()), ".pdf"));
  doc->set_page_count(pdf->pages);
  doc->set_content(std::move(pdf->bytes));

  const bool recorded =
      transfer ? handoff && HasDocument(handoff->handoff().documents(), r.kind(), doc->sha256())
               : HasDocument(c.documents(), r.kind(), doc->sha256());
  if (recorded) return done(std::move(*doc));

  cases::v1::IssuedDocument issued;
  issued.set_kind(r.kind());
  issued.set_form(doc->form());
  issued.set_sha256(doc->sha256());
  *issued.mutable_date() = doc->date();
  SetTimestamp(d_.clock->Now(), issued.mutable_issue_time());
  const std::string handoff_id =
      handoff ? std::string(absl::StripPrefix(handoff->handoff().name(), "handoffs/")) : "";
  d_.store->Submit(
      [this, p, number = *number, issued, handoff_id, doc](WriteTxn& txn) -> absl::Status {
        if (!handoff_id.empty()) {
          RECEPTION_ASSIGN_OR_RETURN(auto raw, txn.Get(records_.families().handoffs, handoff_id));
          cases::storage::HandoffRecord hr;
          if (!raw || !hr.ParseFromString(*raw)) {
            return absl::DataLossError("handoff record does not parse");
          }
          if (HasDocument(hr.handoff().documents(), issued.kind(), issued.sha256())) {
            return absl::OkStatus();
          }
          *hr.mutable_handoff()->add_documents() = issued;
          txn.Put(records_.families().handoffs, handoff_id, hr.SerializeAsString());
          doc->set_newly_issued(true);
          return absl::OkStatus();
        }
        RECEPTION_ASSIGN_OR_RETURN(auto rec, records_.LoadOwned(txn, number));
        Case& c = *rec.mutable_case_();
        if (HasDocument(c.documents(), issued.kind(), issued.sha256())) return absl::OkStatus();
        *c.add_documents() = issued;
        CaseChange change{absl::StrCat("issued ", cases::v1::DocumentKind_Name(issued.kind()),
                                       " (form ", issued.form(), ", dated ",
                                       FormatDate(issued.date()), ") sha256 ", issued.sha256()),
                          {"documents"}};
        RECEPTION_RETURN_IF_ERROR(records_.AppendEvent(txn, rec, p, "IssueCaseDocument", change));
        doc->set_newly_issued(true);
        return absl::OkStatus();
      },
      [this, doc, number = *number, done = std::move(done)](absl::Status s) mutable {
        if (!s.ok()) return done(s);
        if (doc->newly_issued()) {
          if (issued_ != nullptr) {
            issued_->Add({{"kind", documents::DocumentSlug(doc->kind())}}).Increment();
          }
          Log()->info("event=document_issued case={} kind={} form={} sha256={}", number,
                      cases::v1::DocumentKind_Name(doc->kind()), doc->form(), doc->sha256());
        }
        done(std::move(*doc));
      });
}

absl::StatusOr<cases::v1::CaseStatus> CaseDocuments::LookupCaseStatus(
    const cases::v1::LookupCaseStatusRequest& r) const {
  auto out = Lookup(r);
  CountLookup(out.ok()                                                    ? "found"
              : out.status().code() == absl::StatusCode::kNotFound        ? "not_found"
              : out.status().code() == absl::StatusCode::kInvalidArgument ? "invalid"
                                                                          : "error");
  return out;
}

absl::StatusOr<cases::v1::CaseStatus> CaseDocuments::Lookup(
    const cases::v1::LookupCaseStatusRequest& r) const {
  if (r.case_number().empty() || r.case_number().size() > 40) {
    return InvalidField("case_number", "must be the case number printed on the receipt");
  }
  auto number = ParseCaseName(absl::StrCat("cases/", r.case_number()), "case_number");
  if (!number.ok()) {
    return InvalidField("case_number", "must be the case number printed on the receipt");
  }
  std::string code;
  for (char ch : r.receipt_code()) {
    if (ch == ' ' || ch == '-') continue;
    if (ch < '0' || ch > '9' || code.size() >= 12) {
      return InvalidField("receipt_code", "must be the 12 digits printed on the receipt");
    }
    code.push_back(ch);
  }
  if (code.size() != 12) {
    return InvalidField("receipt_code", "must be the 12 digits printed on the receipt");
  }
  // Both the code and the record, always: the same work whichever is wrong.
  const bool match = d_.node_key->ReceiptCodeMatches(*number, code);
  auto rec = records_.Load(nullptr, *number);
  if (!rec.ok()) return rec.status();
  if (!match || !*rec) return NoMatchingReceipt();
  const Case& c = (*rec)->case_();
  cases::v1::CaseStatus out;
  out.set_case_number(*number);
  out.set_state(c.state());
  const absl::CivilDay today = d_.clock->Today();
  auto* unit = out.mutable_handling_unit();
  unit->set_code(c.owner_unit());
  const Topology::Unit* u = d_.topology->Find(c.owner_unit());
  if (auto now = d_.topology->InForce(c.owner_unit(), today); now.ok()) u = *now;
  if (u != nullptr) {
    unit->set_name(u->name());
    unit->set_level(u->level());
  }
  *unit->mutable_as_of() = ToProtoDate(today);
  if (c.owner_unit() == d_.unit_code) {
    std::optional<absl::CivilDay> next;
    bool overdue = false;
    for (const auto& k : c.clocks()) {
      if (k.state() == cases::v1::CLOCK_STATE_MISSED) overdue = true;
      if (k.state() != cases::v1::CLOCK_STATE_RUNNING || IsUnset(k.due_date())) continue;
      auto due = ToCivilDay(k.due_date(), "due_date");
      if (!due.ok()) continue;
      if (*due < today) overdue = true;
      if (!next || *due < *next) next = *due;
    }
    if (next) *out.mutable_next_due_date() = ToProtoDate(*next);
    out.set_overdue(overdue);
  }
  return out;
}

}  // namespace reception
