// Every mutating method of the case registry with hostile requests.
//
// Input: byte 0 picks the method, byte 1 the set-up (the state the target
// case is brought to, complaint or denunciation, the caller, and whether the
// rest is merged into a valid request or parsed alone); the rest is the
// request message's wire bytes. Merging into a valid request keeps most
// fields sensible, so the fuzzer reaches the rules behind the first check.
//
// Invariants: no crash or sanitizer report; a refusal is never INTERNAL,
// UNKNOWN or DATA_LOSS (a client's mistake is the client's error); a change
// that was accepted leaves a verifiable audit chain.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <type_traits>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "services/common/civil_date.h"
#include "tests/fuzz/fuzz_world.h"

namespace reception::fuzz {
namespace {

using cases::v1::Case;

CaseNode& Node() {
  static CaseNode* node = new CaseNode("48", {"48-1"});
  return *node;
}

type::v1::Date Day(int y, int m, int d) { return ToProtoDate(absl::CivilDay(y, m, d)); }

const Principal kCallers[] = {
    {"officer.lan", Role::kReceptionOfficer, "48"},
    {"inspector.hung", Role::kInspector, "48"},
    {"chairman", Role::kHead, "48"},
    {"auditor", Role::kViewer, "48"},
    {"node-48-1", Role::kNode, "48-1"},
    {"officer.ward", Role::kReceptionOfficer, "48-1"},
    {"media", Role::kNode, "48"},
    {"officer.other", Role::kReceptionOfficer, "48-2"},
};

// Runs one mutation of `method` on `registry` and checks its answer.
template <typename Req, typename Resp>
void Check(CaseRegistry& reg, const Principal& p, Req& r, const std::string& bytes, bool merge,
           void (CaseRegistry::*method)(const Principal&, const Req&, CaseRegistry::Callback<Resp>),
           const char* name) {
  if (!Fill(r, bytes, merge)) return;
  auto out = Run<Resp>([&](auto cb) { (reg.*method)(p, r, std::move(cb)); });
  RequireClientError(out.status(), name);
  Verbose(name, out.status());
  if (!out.ok()) return;
  cases::v1::VerifyCaseHistoryRequest v;
  if constexpr (std::is_same_v<Resp, Case>) {
    v.set_name(out->name());
  } else if constexpr (std::is_same_v<Req, cases::v1::UpdateCaseRequest>) {
    v.set_name(r.case_().name());
  } else {
    v.set_name(r.name());
  }
  auto verified = reg.VerifyCaseHistory(kCallers[2], v);
  if (verified.ok()) Require(verified->valid(), name, absl::InternalError(verified->problem()));
}

// The case brought to `stage` (0: none, the request names what it names;
// 1: received; 2: classified within competence; 3: accepted; 4: being
// verified; 5: suspended; 6: decided; 7: classified outside competence).
std::string Prepare(CaseRegistry& reg, int stage, bool denunciation) {
  static uint64_t next = 0;
  if (stage == 0) return "";
  auto created = Run<Case>([&](auto cb) {
    reg.CreateCase(kCallers[0], ValidCase(absl::StrCat("fuzz-", ++next), denunciation),
                   std::move(cb));
  });
  Require(created.ok(), "preparing a case", created.status());
  std::string name = created->name();
  auto step = [&](auto method, auto& r, const Principal& p, const char* what) {
    r.set_name(name);
    auto out = Run<Case>([&](auto cb) { (reg.*method)(p, r, std::move(cb)); });
    Require(out.ok(), what, out.status());
  };
  if (stage == 7) {
    cases::v1::ClassifyCaseRequest c;
    c.set_kind(created->kind());
    c.set_within_competence(false);
    step(&CaseRegistry::ClassifyCase, c, kCallers[0], "classifying outside competence");
    return name;
  }
  if (stage >= 2) {
    cases::v1::ClassifyCaseRequest c;
    c.set_name(name);
    c.set_kind(created->kind());
    c.set_within_competence(true);
    c.set_complexity(cases::v1::COMPLEXITY_NORMAL);
    auto classified = Run<Case>([&](auto cb) { reg.ClassifyCase(kCallers[0], c, std::move(cb)); });
    Require(classified.ok(), "classifying", classified.status());
  }
  if (stage >= 3) {
    cases::v1::AcceptCaseRequest a;
    a.set_name(name);
    a.set_notice_reference("12/TB-UBND");
    auto accepted = Run<Case>([&](auto cb) { reg.AcceptCase(kCallers[2], a, std::move(cb)); });
    Require(accepted.ok(), "accepting", accepted.status());
  }
  if (stage >= 4) {
    cases::v1::StartCaseVerificationRequest v;
    v.set_verifier("inspector.hung");
    step(&CaseRegistry::StartCaseVerification, v, kCallers[2], "verifying");
  }
  if (stage == 5) {
    cases::v1::SuspendCaseRequest r;
    r.set_reason("Chờ kết quả giám định");
    r.set_evidence_reference("45/CV-TTr");
    step(&CaseRegistry::SuspendCase, r, kCallers[2], "suspending");
  }
  if (stage == 6) {
    cases::v1::DecideCaseRequest r;
    r.set_outcome(denunciation ? cases::v1::OUTCOME_DENUNCIATION_UNFOUNDED
                               : cases::v1::OUTCOME_COMPLAINT_WRONG);
    r.set_decision_reference("98/QĐ-UBND");
    r.set_summary("Không có cơ sở");
    step(&CaseRegistry::DecideCase, r, kCallers[2], "deciding");
  }
  return name;
}

}  // namespace
}  // namespace reception::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace reception;
  using namespace reception::fuzz;
  if (size < 2) return 0;
  const int method = data[0] % 24;
  const int stage = data[1] & 7;
  const bool denunciation = (data[1] >> 3) & 1;
  const Principal& caller = kCallers[(data[1] >> 4) & 7];
  const bool merge = !((data[1] >> 7) & 1);
  const std::string bytes(reinterpret_cast<const char*>(data) + 2, size - 2);
  CaseRegistry& reg = Node().registry();
  const std::string name = Prepare(reg, stage, denunciation);
  const auto today = Day(2026, 11, 27);
  switch (method) {
    case 0: {
      static uint64_t n = 0;
      auto r = ValidCase(absl::StrCat("fuzz-create-", ++n), denunciation);
      Check(reg, caller, r, bytes, merge, &CaseRegistry::CreateCase, "CreateCase");
      break;
    }
    case 1: {
      cases::v1::ClassifyCaseRequest r;
      r.set_name(name);
      r.set_kind(denunciation ? cases::v1::CASE_KIND_DENUNCIATION : cases::v1::CASE_KIND_COMPLAINT);
      r.set_within_competence(true);
      r.set_complexity(cases::v1::COMPLEXITY_COMPLEX);
      *r.mutable_date() = today;
      Check(reg, caller, r, bytes, merge, &CaseRegistry::ClassifyCase, "ClassifyCase");
      break;
    }
    case 2: {
      cases::v1::AcceptCaseRequest r;
      r.set_name(name);
      r.set_notice_reference("12/TB-UBND");
      *r.mutable_date() = today;
      Check(reg, caller, r, bytes, merge, &CaseRegistry::AcceptCase, "AcceptCase");
      break;
    }
    case 3: {
      cases::v1::RefuseCaseRequest r;
      r.set_name(name);
      r.set_ground(cases::v1::REFUSAL_GROUND_ALREADY_SETTLED);
      r.set_notice_reference("13/TB-UBND");
      r.set_explanation("Đã được giải quyết đúng pháp luật");
      Check(reg, caller, r, bytes, merge, &CaseRegistry::RefuseCase, "RefuseCase");
      break;
    }
    case 4: {
      cases::v1::GuideCaseRequest r;
      r.set_name(name);
      r.set_competent_body("Tòa án nhân dân thành phố");
      Check(reg, caller, r, bytes, merge, &CaseRegistry::GuideCase, "GuideCase");
      break;
    }
    case 5: {
      cases::v1::ArchiveCaseRequest r;
      r.set_name(name);
      r.set_reason(cases::v1::ARCHIVE_REASON_OTHER);
      r.set_note("Đơn không ký tên");
      Check(reg, caller, r, bytes, merge, &CaseRegistry::ArchiveCase, "ArchiveCase");
      break;
    }
    case 6: {
      cases::v1::StartCaseVerificationRequest r;
      r.set_name(name);
      r.set_verifier("inspector.hung");
      Check(reg, caller, r, bytes, merge, &CaseRegistry::StartCaseVerification,
            "StartCaseVerification");
      break;
    }
    case 7: {
      cases::v1::SuspendCaseRequest r;
      r.set_name(name);
      r.set_reason("Chờ kết quả giám định");
      r.set_evidence_reference("45/CV-TTr");
      *r.mutable_date() = today;
      Check(reg, caller, r, bytes, merge, &CaseRegistry::SuspendCase, "SuspendCase");
      break;
    }
    case 8: {
      cases::v1::ResumeCaseRequest r;
      r.set_name(name);
      *r.mutable_date() = today;
      Check(reg, caller, r, bytes, merge, &CaseRegistry::ResumeCase, "ResumeCase");
      break;
    }
    case 9: {
      cases::v1::DecideCaseRequest r;
      r.set_name(name);
      r.set_outcome(denunciation ? cases::v1::OUTCOME_DENUNCIATION_FOUNDED
                                 : cases::v1::OUTCOME_COMPLAINT_RIGHT);
      r.set_decision_reference("99/QĐ-UBND");
      r.set_summary("Khiếu nại đúng");
      Check(reg, caller, r, bytes, merge, &CaseRegistry::DecideCase, "DecideCase");
      break;
    }
    case 10: {
      cases::v1::CloseCaseRequest r;
      r.set_name(name);
      Check(reg, caller, r, bytes, merge, &CaseRegistry::CloseCase, "CloseCase");
      break;
    }
    case 11: {
      cases::v1::PublishDecisionRequest r;
      r.set_name(name);
      r.set_method(cases::v1::PUBLICATION_METHOD_POSTING);
      r.set_reference("Niêm yết tại trụ sở");
      Check(reg, caller, r, bytes, merge, &CaseRegistry::PublishDecision, "PublishDecision");
      break;
    }
    case 12: {
      cases::v1::WithdrawCaseRequest r;
      r.set_name(name);
      r.set_reason("Công dân rút đơn");
      r.set_document_reference("Đơn rút ngày 27/11");
      Check(reg, caller, r, bytes, merge, &CaseRegistry::WithdrawCase, "WithdrawCase");
      break;
    }
    case 13: {
      cases::v1::DeclareCaseComplexityRequest r;
      r.set_name(name);
      r.set_complexity(cases::v1::COMPLEXITY_COMPLEX);
      r.set_decision_reference("7/QĐ-UBND");
      Check(reg, caller, r, bytes, merge, &CaseRegistry::DeclareCaseComplexity,
            "DeclareCaseComplexity");
      break;
    }
    case 14: {
      cases::v1::ExtendCaseDeadlineRequest r;
      r.set_name(name);
      r.set_step(cases::v1::DEADLINE_STEP_SETTLE);
      r.set_decision_reference("8/QĐ-UBND");
      r.set_days(10);
      Check(reg, caller, r, bytes, merge, &CaseRegistry::ExtendCaseDeadline, "ExtendCaseDeadline");
      break;
    }
    case 15: {
      federation::v1::AttachCaseMinutesRequest r;
      r.set_name(name);
      Check(reg, caller, r, bytes, merge, &CaseRegistry::AttachCaseMinutes, "AttachCaseMinutes");
      break;
    }
    case 16: {
      cases::v1::TransferCaseRequest r;
      r.set_name(name);
      r.set_destination_unit("48-1");
      r.set_reason("Thuộc thẩm quyền của UBND phường");
      r.set_request_id(absl::StrCat(name, "-t"));
      Check(reg, caller, r, bytes, merge, &CaseRegistry::TransferCase, "TransferCase");
      break;
    }
    case 17: {
      cases::v1::ReturnCaseRequest r;
      r.set_name(name);
      r.set_reason("Không thuộc thẩm quyền");
      r.set_request_id(absl::StrCat(name, "-r"));
      Check(reg, caller, r, bytes, merge, &CaseRegistry::ReturnCase, "ReturnCase");
      break;
    }
    case 18: {
      cases::v1::DisputeJurisdictionRequest r;
      r.set_name(name);
      r.set_competent_unit("48-1");
      r.set_reason("UBND phường có thẩm quyền");
      r.set_request_id(absl::StrCat(name, "-d"));
      Check(reg, caller, r, bytes, merge, &CaseRegistry::DisputeJurisdiction,
            "DisputeJurisdiction");
      break;
    }
    case 21: {
      // A paper: rendered from whatever the case has become.
      cases::v1::GetCaseDocumentRequest r;
      r.set_name(name);
      r.set_kind(static_cast<cases::v1::DocumentKind>(1 + (data[0] >> 5)));
      if (!Fill(r, bytes, merge)) break;
      auto out = Run<cases::v1::CaseDocument>(
          [&](auto cb) { reg.GetCaseDocument(caller, r, std::move(cb)); });
      RequireClientError(out.status(), "GetCaseDocument");
      Verbose("GetCaseDocument", out.status());
      if (out.ok()) {
        Require(out->content().rfind("%PDF-", 0) == 0 && out->sha256().size() == 64,
                "GetCaseDocument", absl::InternalError("not a PDF with its hash"));
      }
      break;
    }
    case 22: {
      // The public look-up: any bytes, no caller; never more than NOT_FOUND
      // for a code that is not the case's.
      cases::v1::LookupCaseStatusRequest r;
      r.set_case_number(std::string(absl::StripPrefix(name, "cases/")));
      r.set_receipt_code("123456789012");
      if (!Fill(r, bytes, merge)) break;
      auto out = reg.LookupCaseStatus(r);
      RequireClientError(out.status(), "LookupCaseStatus");
      Verbose("LookupCaseStatus", out.status());
      break;
    }
    case 23: {
      // A restored peer's ownership question: claims of any shape.
      federation::v1::CheckCaseOwnersRequest r;
      auto* claim = r.add_claims();
      claim->set_case_(name);
      claim->set_owner_epoch(data[0] >> 5);
      if (!Fill(r, bytes, merge)) break;
      auto out = reg.ownership_check().Answer(caller, r);
      RequireClientError(out.status(), "CheckCaseOwners");
      Verbose("CheckCaseOwners", out.status());
      break;
    }
    case 20: {
      cases::v1::UpdateCaseRequest r;
      r.mutable_case_()->set_name(name);
      auto* p = r.mutable_case_()->add_petitioners();
      p->set_full_name(denunciation ? "Lê Thị Cúc Phương" : "Nguyễn Văn Ân");
      p->set_citizen_id(denunciation ? "049301009999" : "049201001234");
      p->set_address("14 Trần Phú, Hải Châu");
      r.mutable_case_()->set_content("Khiếu nại quyết định số 125/QĐ-UBND");
      r.mutable_update_mask()->add_paths("petitioners");
      r.mutable_update_mask()->add_paths("content");
      r.set_reason("Sửa theo CCCD");
      Check(reg, caller, r, bytes, merge, &CaseRegistry::UpdateCase, "UpdateCase");
      break;
    }
    default: {
      cases::v1::ResolveJurisdictionRequest r;
      r.set_name(name);
      r.set_competent_unit("48-1");
      r.set_reason("Thuộc thẩm quyền phường");
      r.set_legal_basis("Điều 18 Luật Khiếu nại");
      r.set_request_id(absl::StrCat(name, "-j"));
      Check(reg, caller, r, bytes, merge, &CaseRegistry::ResolveJurisdiction,
            "ResolveJurisdiction");
      break;
    }
  }
  return 0;
}
