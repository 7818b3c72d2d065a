// The papers of a case (GetCaseDocument) and the citizens' status look-up
// (LookupCaseStatus). A paper is rendered from the stored record by
// services/documents; its first issue is recorded with its SHA-256 (in the
// case's audit trail and Case.documents; a transfer slip in the outgoing
// Handoff.documents, the case being no longer this node's to change).
#ifndef RECEPTION_SERVICES_CASE_CASE_DOCUMENTS_H_
#define RECEPTION_SERVICES_CASE_CASE_DOCUMENTS_H_

#include <string>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "reception/cases/v1/case_service.pb.h"
#include "services/case/case_records.h"
#include "services/common/principal.h"

namespace prometheus {
class Counter;
template <typename T>
class Family;
}  // namespace prometheus

namespace reception {

class CaseDocuments {
 public:
  // Registers reception_documents_issued_total{kind} and
  // reception_status_lookups_total{result} when deps.metrics is set.
  CaseDocuments(const CaseDeps& deps, CaseRecords& records);

  // Renders on the calling thread (a few milliseconds: call it off the
  // gRPC threads); a first issue is then written on the store's writer
  // thread and `done` runs there, else at once.
  void GetCaseDocument(const Principal& p, const cases::v1::GetCaseDocumentRequest& r,
                       absl::AnyInvocable<void(absl::StatusOr<cases::v1::CaseDocument>)> done);

  // No principal: the receipt code is the credential. The same NOT_FOUND
  // for a wrong code and an unknown number, after the same work (the code's
  // keyed hash is computed and the record read either way).
  absl::StatusOr<cases::v1::CaseStatus> LookupCaseStatus(
      const cases::v1::LookupCaseStatusRequest& r) const;

  // A look-up the gRPC edge refused before it got here (rate limited).
  void CountLimitedLookup() const { CountLookup("limited"); }

  // "1234-5678-9012" for a case number (what the receipt prints).
  std::string PrintedReceiptCode(absl::string_view number) const;

 private:
  // The latest outgoing handoff of a case, if any.
  absl::StatusOr<std::optional<cases::storage::HandoffRecord>> LatestOutgoing(
      const std::string& number) const;

  absl::StatusOr<cases::v1::CaseStatus> Lookup(const cases::v1::LookupCaseStatusRequest& r) const;
  void CountLookup(const char* result) const;

  const CaseDeps& d_;
  CaseRecords& records_;
  prometheus::Family<prometheus::Counter>* issued_ = nullptr;
  prometheus::Family<prometheus::Counter>* lookups_ = nullptr;
};

}  // namespace reception

#endif  // RECEPTION_SERVICES_CASE_CASE_DOCUMENTS_H_
