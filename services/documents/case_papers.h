// The papers of a case: which act each records, its date and number, and the
// fields its form is filled with, taken from the case record (and, for a
// transfer slip, the handoff). A protected identity is on no paper: the
// record served has none, and the petitioner fields say it is kept secret.
#ifndef RECEPTION_SERVICES_DOCUMENTS_CASE_PAPERS_H_
#define RECEPTION_SERVICES_DOCUMENTS_CASE_PAPERS_H_

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "reception/cases/v1/case.pb.h"
#include "reception/cases/v1/handoff_service.pb.h"
#include "services/common/topology.h"
#include "services/documents/form_book.h"
#include "services/documents/pdf_paper.h"

namespace reception::documents {

struct PaperContext {
  const Topology* topology = nullptr;
  std::string unit_code;  // the issuing unit (this node's)
  // The receipt: the citizen's code and what the QR code carries.
  std::string receipt_code;
  std::string lookup_payload;
  std::string lookup_address;  // printed under the QR code; may be empty
  // The transfer slip: the outgoing handoff it records.
  const cases::v1::Handoff* handoff = nullptr;
  // The minutes: "rooms/{id}", empty for the last attached.
  std::string room;
};

struct CasePaper {
  Paper paper;
  const Form* form = nullptr;
  absl::CivilDay date;
  std::string number;
  std::map<std::string, std::string> fields;  // as filled (tests read them)
};

// FAILED_PRECONDITION DOCUMENT_NOT_AVAILABLE when the case has not had the
// act; NO_FORM_IN_FORCE when no form covers its date.
absl::StatusOr<CasePaper> BuildCasePaper(cases::v1::DocumentKind kind, const cases::v1::Case& c,
                                         const PaperContext& context, const FormBook& forms);

// "ngày 05 tháng 3 năm 2026" (Decree 30/2020: days 1-9 and months 1-2 with
// a leading zero).
std::string DateInWords(absl::CivilDay day);

// A short name for file names ("receipt", "refusal-notice").
std::string DocumentSlug(cases::v1::DocumentKind kind);

}  // namespace reception::documents

#endif  // RECEPTION_SERVICES_DOCUMENTS_CASE_PAPERS_H_
