#include "services/case/case_registry.h"

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "services/common/logging.h"
#include "services/common/status.h"
#include "services/common/text.h"

namespace reception {

using cases::storage::CaseRecord;
using cases::v1::Case;

std::vector<std::string> CaseRegistry::ColumnFamilies() { return CaseRecords::ColumnFamilies(); }

CaseRegistry::CaseRegistry(Deps deps)
    : d_(std::move(deps)),
      records_(d_),
      subtree_(std::make_shared<SubtreeBoard>(d_.clock, d_.deadlines, d_.topology, d_.unit_code)),
      board_(std::make_shared<DeadlineBoard>(d_.clock, subtree_.get())),
      clocks_(d_, records_, *board_),
      duplicates_(d_, records_),
      replicas_(d_, records_, duplicates_, subtree_.get()),
      checks_(d_, records_, duplicates_, replicas_),
      links_(d_, records_, replicas_, clocks_),
      ownership_(d_, records_, replicas_, *board_),
      handoffs_(d_, records_, clocks_, duplicates_, checks_, links_, *board_),
      intake_(d_, records_, clocks_, duplicates_, checks_, links_, *board_),
      transitions_(d_, records_, clocks_, duplicates_, handoffs_, *board_),
      queries_(d_, records_, clocks_, duplicates_, replicas_),
      reports_(d_, records_),
      documents_(d_, records_) {
  // Second-time complaints' links are asked of the ancestor through the
  // same queue as subtree checks.
  checks_.Route(FirstComplaintLinks::kKeyPrefix,
                [this](const Outbox::Item& item, const Outbox::Answer& answer, WriteTxn& txn) {
                  return links_.Settle(item, answer, txn);
                });
  // So are a restored node's questions of its peers.
  checks_.Route(OwnershipCheck::kKeyPrefix,
                [this](const Outbox::Item& item, const Outbox::Answer& answer, WriteTxn& txn) {
                  return ownership_.Settle(item, answer, txn);
                });
  // The board starts from what is stored; every committed write updates it.
  (void)records_.ForEach([this](const CaseRecord& rec) {
    board_->Update(rec.case_());
    return absl::OkStatus();
  });
  (void)replicas_.ForEach([this](const Case& c) {
    subtree_->Update(c, /*replica=*/true);
    return absl::OkStatus();
  });
  facts_status_ = BackfillReportFacts();
  if (facts_status_.ok()) facts_status_ = BackfillSubtreeIndex();
}

namespace {

// A start-up backfill's writes to one family, committed 10,000 at a time,
// then a marker in "meta" that it is done.
class Backfill {
 public:
  Backfill(Store* store, rocksdb::ColumnFamilyHandle* family) : store_(store), family_(family) {}
  absl::Status Add(std::string key, std::string value) {
    batch_.emplace_back(std::move(key), std::move(value));
    return batch_.size() >= 10000 ? Flush() : absl::OkStatus();
  }
  absl::Status Finish(rocksdb::ColumnFamilyHandle* meta, const std::string& marker,
                      const std::string& value) {
    RECEPTION_RETURN_IF_ERROR(Flush());
    return store_->CommitAndWait([&](WriteTxn& txn) {
      txn.Put(meta, marker, value);
      return absl::OkStatus();
    });
  }

 private:
  absl::Status Flush() {
    auto pending = std::move(batch_);
    batch_.clear();
    return store_->CommitAndWait([&](WriteTxn& txn) {
      for (const auto& [k, v] : pending) txn.Put(family_, k, v);
      return absl::OkStatus();
    });
  }
  Store* store_;
  rocksdb::ColumnFamilyHandle* family_;
  std::vector<std::pair<std::string, std::string>> batch_;
};

}  // namespace

absl::Status CaseRegistry::BackfillSubtreeIndex() {
  // This node's own cases enter the subtree index under the matching key
  // when the key is first configured (or replaced): once, at start.
  if (d_.matching_key.empty()) return absl::OkStatus();
  constexpr char kMarker[] = "subtree_citizens_key";
  const std::string id = SubtreeChecks::KeyId(d_.matching_key);
  RECEPTION_ASSIGN_OR_RETURN(auto marker, d_.store->Get(records_.families().meta, kMarker));
  if (marker && *marker == id) return absl::OkStatus();
  Backfill backfill(d_.store, records_.families().subtree_citizens);
  int64_t written = 0;
  RECEPTION_RETURN_IF_ERROR(records_.ForEach([&](const CaseRecord& rec) -> absl::Status {
    const auto keys = duplicates_.CitizenKeysOf(rec.case_());
    if (keys.empty()) return absl::OkStatus();
    const std::string value =
        CaseDuplicates::ReplicaIndexValue(rec.case_(), FoldForSearch(rec.case_().content()));
    ++written;
    for (const auto& k : keys) {
      RECEPTION_RETURN_IF_ERROR(
          backfill.Add(absl::StrCat(absl::BytesToHexString(k), "/", rec.case_().number()), value));
    }
    return absl::OkStatus();
  }));
  RECEPTION_RETURN_IF_ERROR(backfill.Finish(records_.families().meta, kMarker, id));
  if (written > 0) Log()->info("event=subtree_index_backfilled cases={}", written);
  return absl::OkStatus();
}

absl::Status CaseRegistry::BackfillReportFacts() {
  // A store written before report facts existed gets them once, at start.
  constexpr char kMarker[] = "report_facts_version";
  RECEPTION_ASSIGN_OR_RETURN(auto marker, d_.store->Get(records_.families().meta, kMarker));
  if (marker) return absl::OkStatus();
  Backfill backfill(d_.store, records_.families().facts);
  int64_t written = 0;
  auto add = [&](const Case& c, bool replica) -> absl::Status {
    ++written;
    return backfill.Add(FactsKey(c.number(), replica), ReportFacts(c).SerializeAsString());
  };
  RECEPTION_RETURN_IF_ERROR(
      records_.ForEach([&](const CaseRecord& rec) { return add(rec.case_(), false); }));
  RECEPTION_RETURN_IF_ERROR(replicas_.ForEach([&](const Case& c) { return add(c, true); }));
  RECEPTION_RETURN_IF_ERROR(backfill.Finish(records_.families().meta, kMarker, "1"));
  if (written > 0) Log()->info("event=report_facts_backfilled cases={}", written);
  return absl::OkStatus();
}

void CaseRegistry::CreateCase(const Principal& p, const cases::v1::CreateCaseRequest& r,
                              Callback<Case> done) {
  intake_.CreateCase(p, r, std::move(done));
}

void CaseRegistry::ClassifyCase(const Principal& p, const cases::v1::ClassifyCaseRequest& r,
                                Callback<Case> done) {
  transitions_.ClassifyCase(p, r, std::move(done));
}

void CaseRegistry::AcceptCase(const Principal& p, const cases::v1::AcceptCaseRequest& r,
                              Callback<Case> done) {
  transitions_.AcceptCase(p, r, std::move(done));
}

void CaseRegistry::RefuseCase(const Principal& p, const cases::v1::RefuseCaseRequest& r,
                              Callback<Case> done) {
  transitions_.RefuseCase(p, r, std::move(done));
}

void CaseRegistry::GuideCase(const Principal& p, const cases::v1::GuideCaseRequest& r,
                             Callback<Case> done) {
  transitions_.GuideCase(p, r, std::move(done));
}

void CaseRegistry::ArchiveCase(const Principal& p, const cases::v1::ArchiveCaseRequest& r,
                               Callback<Case> done) {
  transitions_.ArchiveCase(p, r, std::move(done));
}

void CaseRegistry::StartCaseVerification(const Principal& p,
                                         const cases::v1::StartCaseVerificationRequest& r,
                                         Callback<Case> done) {
  transitions_.StartCaseVerification(p, r, std::move(done));
}

void CaseRegistry::SuspendCase(const Principal& p, const cases::v1::SuspendCaseRequest& r,
                               Callback<Case> done) {
  transitions_.SuspendCase(p, r, std::move(done));
}

void CaseRegistry::ResumeCase(const Principal& p, const cases::v1::ResumeCaseRequest& r,
                              Callback<Case> done) {
  transitions_.ResumeCase(p, r, std::move(done));
}

void CaseRegistry::DecideCase(const Principal& p, const cases::v1::DecideCaseRequest& r,
                              Callback<Case> done) {
  transitions_.DecideCase(p, r, std::move(done));
}

void CaseRegistry::UpdateCase(const Principal& p, const cases::v1::UpdateCaseRequest& r,
                              Callback<cases::v1::Case> done) {
  transitions_.UpdateCase(p, r, std::move(done));
}
void CaseRegistry::CloseCase(const Principal& p, const cases::v1::CloseCaseRequest& r,
                             Callback<Case> done) {
  transitions_.CloseCase(p, r, std::move(done));
}

void CaseRegistry::PublishDecision(const Principal& p, const cases::v1::PublishDecisionRequest& r,
                                   Callback<Case> done) {
  transitions_.PublishDecision(p, r, std::move(done));
}

void CaseRegistry::WithdrawCase(const Principal& p, const cases::v1::WithdrawCaseRequest& r,
                                Callback<Case> done) {
  transitions_.WithdrawCase(p, r, std::move(done));
}

void CaseRegistry::DeclareCaseComplexity(const Principal& p,
                                         const cases::v1::DeclareCaseComplexityRequest& r,
                                         Callback<Case> done) {
  transitions_.DeclareCaseComplexity(p, r, std::move(done));
}

void CaseRegistry::ExtendCaseDeadline(const Principal& p,
                                      const cases::v1::ExtendCaseDeadlineRequest& r,
                                      Callback<Case> done) {
  transitions_.ExtendCaseDeadline(p, r, std::move(done));
}

void CaseRegistry::AttachCaseMinutes(const Principal& p,
                                     const federation::v1::AttachCaseMinutesRequest& r,
                                     Callback<Case> done) {
  transitions_.AttachCaseMinutes(p, r, std::move(done));
}

void CaseRegistry::RevealDenouncerIdentity(
    const Principal& p, const cases::v1::RevealDenouncerIdentityRequest& r,
    Callback<cases::v1::RevealDenouncerIdentityResponse> done) {
  transitions_.RevealDenouncerIdentity(p, r, std::move(done));
}

void CaseRegistry::TransferCase(const Principal& p, const cases::v1::TransferCaseRequest& r,
                                Callback<cases::v1::Handoff> done) {
  handoffs_.TransferCase(p, r, std::move(done));
}

void CaseRegistry::ReturnCase(const Principal& p, const cases::v1::ReturnCaseRequest& r,
                              Callback<cases::v1::Handoff> done) {
  handoffs_.ReturnCase(p, r, std::move(done));
}

void CaseRegistry::DisputeJurisdiction(const Principal& p,
                                       const cases::v1::DisputeJurisdictionRequest& r,
                                       Callback<cases::v1::JurisdictionResponse> done) {
  handoffs_.DisputeJurisdiction(p, r, std::move(done));
}

void CaseRegistry::ResolveJurisdiction(const Principal& p,
                                       const cases::v1::ResolveJurisdictionRequest& r,
                                       Callback<cases::v1::JurisdictionResponse> done) {
  handoffs_.ResolveJurisdiction(p, r, std::move(done));
}

void CaseRegistry::ImportHandoff(const Principal& p, const federation::v1::OfferHandoffRequest& r,
                                 Callback<federation::v1::OfferHandoffResponse> done) {
  handoffs_.ImportHandoff(p, r, std::move(done));
}

absl::StatusOr<federation::v1::OfferHandoffRequest> CaseRegistry::BuildOffer(
    const std::string& handoff_id, absl::string_view peer_public_key) const {
  return handoffs_.BuildOffer(handoff_id, peer_public_key);
}

absl::StatusOr<cases::v1::Handoff> CaseRegistry::GetHandoff(
    const Principal&, const cases::v1::GetHandoffRequest& r) const {
  return handoffs_.GetHandoff(r);
}

absl::StatusOr<cases::v1::ListHandoffsResponse> CaseRegistry::ListHandoffs(
    const Principal&, const cases::v1::ListHandoffsRequest& r) const {
  return handoffs_.ListHandoffs(r);
}

absl::StatusOr<Case> CaseRegistry::GetCase(const Principal& p,
                                           const cases::v1::GetCaseRequest& r) const {
  return queries_.GetCase(p, r);
}

absl::StatusOr<cases::v1::ListCasesResponse> CaseRegistry::ListCases(
    const Principal& p, const cases::v1::ListCasesRequest& r) const {
  return queries_.ListCases(p, r);
}

absl::StatusOr<cases::v1::GetCaseHistoryResponse> CaseRegistry::GetCaseHistory(
    const Principal& p, const cases::v1::GetCaseHistoryRequest& r) const {
  return queries_.GetCaseHistory(p, r);
}

absl::StatusOr<cases::v1::VerifyCaseHistoryResponse> CaseRegistry::VerifyCaseHistory(
    const Principal& p, const cases::v1::VerifyCaseHistoryRequest& r) const {
  return queries_.VerifyCaseHistory(p, r);
}

absl::StatusOr<cases::v1::ExportReceptionLogResponse> CaseRegistry::ExportReceptionLog(
    const Principal& p, const cases::v1::ExportReceptionLogRequest& r) const {
  return queries_.ExportReceptionLog(p, r);
}

absl::StatusOr<cases::v1::PreviewDeadlinesResponse> CaseRegistry::PreviewDeadlines(
    const Principal&, const cases::v1::PreviewDeadlinesRequest& r) const {
  return clocks_.Preview(r);
}

absl::StatusOr<int> CaseRegistry::RecomputeClocksForCalendar() {
  return clocks_.RecountForCalendar();
}

}  // namespace reception
