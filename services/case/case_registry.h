// The register of cases a node holds: the one object the gRPC edge
// (case_service.h), the node module and tests call. Transport-free. It is a
// facade over the parts of the case service, one concept each:
//
//   case_records.h     stored records, audit events, the change feed
//   case_intake.h      CreateCase
//   case_transitions.h the lifecycle after intake
//   case_clocks.h      statutory clocks on cases
//   case_handoffs.h    transfers, returns, disputes; handoff_import.cc
//   case_queries.h     GetCase, ListCases, history, reception log
//   case_duplicates.h  search text, citizen index, possible repeats
//   case_replicas.h    oversight: the feed served up, replicas followed
//   subtree_checks.h   province-wide duplicate checks (asked above, answered)
//   case_reports.h     report figures over a unit's subtree
//
// Every mutation is one Store mutation (one WriteBatch: the case, its audit
// event, its change-feed entry, its idempotency record) run on the store's
// writer thread, so read-modify-write is serialised without locks and a
// callback fires only once the batch is durable.
#ifndef RECEPTION_SERVICES_CASE_CASE_REGISTRY_H_
#define RECEPTION_SERVICES_CASE_CASE_REGISTRY_H_

#include <algorithm>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "reception/cases/v1/case_service.pb.h"
#include "reception/cases/v1/handoff_service.pb.h"
#include "reception/federation/v1/case_federation.pb.h"
#include "services/case/case_clocks.h"
#include "services/case/case_documents.h"
#include "services/case/case_duplicates.h"
#include "services/case/case_handoffs.h"
#include "services/case/case_intake.h"
#include "services/case/case_queries.h"
#include "services/case/case_records.h"
#include "services/case/case_replicas.h"
#include "services/case/case_reports.h"
#include "services/case/case_transitions.h"
#include "services/case/deadline_board.h"
#include "services/case/first_complaint_links.h"
#include "services/case/ownership_check.h"
#include "services/case/subtree_checks.h"

namespace reception {

class CaseRegistry {
 public:
  using Deps = CaseDeps;

  template <typename T>
  using Callback = absl::AnyInvocable<void(absl::StatusOr<T>)>;

  // The column families this registry needs in its store.
  static std::vector<std::string> ColumnFamilies();
  static std::map<std::string, size_t> PrefixLengths() { return CaseRecords::PrefixLengths(); }

  explicit CaseRegistry(Deps deps);

  // Mutations: `done` runs exactly once, on the store's writer thread, after
  // the change is durable (or with the error). Thread-safe.
  void CreateCase(const Principal& p, const cases::v1::CreateCaseRequest& r,
                  Callback<cases::v1::Case> done);
  void ClassifyCase(const Principal& p, const cases::v1::ClassifyCaseRequest& r,
                    Callback<cases::v1::Case> done);
  void AcceptCase(const Principal& p, const cases::v1::AcceptCaseRequest& r,
                  Callback<cases::v1::Case> done);
  void RefuseCase(const Principal& p, const cases::v1::RefuseCaseRequest& r,
                  Callback<cases::v1::Case> done);
  void GuideCase(const Principal& p, const cases::v1::GuideCaseRequest& r,
                 Callback<cases::v1::Case> done);
  void ArchiveCase(const Principal& p, const cases::v1::ArchiveCaseRequest& r,
                   Callback<cases::v1::Case> done);
  void StartCaseVerification(const Principal& p, const cases::v1::StartCaseVerificationRequest& r,
                             Callback<cases::v1::Case> done);
  void SuspendCase(const Principal& p, const cases::v1::SuspendCaseRequest& r,
                   Callback<cases::v1::Case> done);
  void ResumeCase(const Principal& p, const cases::v1::ResumeCaseRequest& r,
                  Callback<cases::v1::Case> done);
  void DecideCase(const Principal& p, const cases::v1::DecideCaseRequest& r,
                  Callback<cases::v1::Case> done);
  void CloseCase(const Principal& p, const cases::v1::CloseCaseRequest& r,
                 Callback<cases::v1::Case> done);
  void PublishDecision(const Principal& p, const cases::v1::PublishDecisionRequest& r,
                       Callback<cases::v1::Case> done);
  void WithdrawCase(const Principal& p, const cases::v1::WithdrawCaseRequest& r,
                    Callback<cases::v1::Case> done);
  void DeclareCaseComplexity(const Principal& p, const cases::v1::DeclareCaseComplexityRequest& r,
                             Callback<cases::v1::Case> done);
  void ExtendCaseDeadline(const Principal& p, const cases::v1::ExtendCaseDeadlineRequest& r,
                          Callback<cases::v1::Case> done);
  // Corrections of what intake recorded (case_corrections.h).
  void UpdateCase(const Principal& p, const cases::v1::UpdateCaseRequest& r,
                  Callback<cases::v1::Case> done);
  // Signed minutes of an online reception room (the node's own media
  // service, or staff of the owning unit); a repeat for the same room
  // returns the case unchanged.
  void AttachCaseMinutes(const Principal& p, const federation::v1::AttachCaseMinutesRequest& r,
                         Callback<cases::v1::Case> done);
  // Handoffs. TransferCase/ReturnCase freeze the case and queue the handoff
  // in the shared outbox in one write ("h/{handoff id}"); its worker hands
  // each to deliver_handoff (BuildOffer's request to the destination, whose
  // ImportHandoff answers once the import is durable); the answer is
  // recorded on the handoff in the write that takes it off the queue.
  void TransferCase(const Principal& p, const cases::v1::TransferCaseRequest& r,
                    Callback<cases::v1::Handoff> done);
  void ReturnCase(const Principal& p, const cases::v1::ReturnCaseRequest& r,
                  Callback<cases::v1::Handoff> done);
  // Jurisdiction disputes: opened by the owner (or by a second return of the
  // same matter), decided by the two units' lowest common ancestor; each is
  // one write with the handoff that carries the case on.
  void DisputeJurisdiction(const Principal& p, const cases::v1::DisputeJurisdictionRequest& r,
                           Callback<cases::v1::JurisdictionResponse> done);
  void ResolveJurisdiction(const Principal& p, const cases::v1::ResolveJurisdictionRequest& r,
                           Callback<cases::v1::JurisdictionResponse> done);
  void ImportHandoff(const Principal& p, const federation::v1::OfferHandoffRequest& r,
                     Callback<federation::v1::OfferHandoffResponse> done);
  // The handoffs owed to peers (started by the module; operators list,
  // retry and cancel dead letters there). Not ok: the outbox did not open.
  Outbox* handoff_outbox() const { return handoffs_.outbox(); }
  absl::Status status() const {
    if (!facts_status_.ok()) return facts_status_;
    return checks_.status().ok() ? handoffs_.status() : checks_.status();
  }
  // The checks of new cases against the ancestor's subtree (oversight).
  const SubtreeChecks& subtree_checks() const { return checks_; }
  Outbox* check_outbox() const { return checks_.outbox(); }
  // Second-time complaints' links to their first-time complaints.
  const FirstComplaintLinks& first_complaint_links() const { return links_; }
  // After a restore: which cases this node still owns.
  const OwnershipCheck& ownership_check() const { return ownership_; }
  // Start-up after a restore from `backup` (see OwnershipCheck::Begin).
  absl::StatusOr<int> BeginOwnershipCheck(const std::string& backup) {
    return ownership_.Begin(backup, checks_.outbox());
  }
  // Whether `unit` is one of this node's federation peers.
  bool IsPeer(const std::string& unit) const {
    return std::find(d_.peer_units.begin(), d_.peer_units.end(), unit) != d_.peer_units.end();
  }
  // The offer of a pending handoff, its protected identity sealed for the
  // destination's node key.
  absl::StatusOr<federation::v1::OfferHandoffRequest> BuildOffer(
      const std::string& handoff_id, absl::string_view peer_public_key) const;
  absl::StatusOr<cases::v1::Handoff> GetHandoff(const Principal& p,
                                                const cases::v1::GetHandoffRequest& r) const;
  absl::StatusOr<cases::v1::ListHandoffsResponse> ListHandoffs(
      const Principal& p, const cases::v1::ListHandoffsRequest& r) const;

  void RevealDenouncerIdentity(const Principal& p,
                               const cases::v1::RevealDenouncerIdentityRequest& r,
                               Callback<cases::v1::RevealDenouncerIdentityResponse> done);

  // The change feed from just after position `after` (see CaseRecords).
  absl::StatusOr<std::vector<FeedPosition>> ReadFeed(uint64_t after, int limit) const {
    return records_.ReadFeed(after, limit);
  }

  // Oversight: the feed served to the node above, the replicas followed
  // from the nodes below.
  const CaseReplicas& replicas() const { return replicas_; }
  absl::StatusOr<uint64_t> FeedHead() const { return records_.FeedHead(); }
  // Start-up after a restore (see CaseRecords::SkipCounters).
  absl::StatusOr<int> SkipCountersAfterRestore(uint64_t gap) { return records_.SkipCounters(gap); }

  // Reads: synchronous point reads and bounded scans. Thread-safe.
  absl::StatusOr<cases::v1::Case> GetCase(const Principal& p,
                                          const cases::v1::GetCaseRequest& r) const;
  absl::StatusOr<cases::v1::ListCasesResponse> ListCases(
      const Principal& p, const cases::v1::ListCasesRequest& r) const;
  absl::StatusOr<cases::v1::GetCaseHistoryResponse> GetCaseHistory(
      const Principal& p, const cases::v1::GetCaseHistoryRequest& r) const;
  absl::StatusOr<cases::v1::VerifyCaseHistoryResponse> VerifyCaseHistory(
      const Principal& p, const cases::v1::VerifyCaseHistoryRequest& r) const;
  absl::StatusOr<cases::v1::ExportReceptionLogResponse> ExportReceptionLog(
      const Principal& p, const cases::v1::ExportReceptionLogRequest& r) const;
  absl::StatusOr<cases::v1::CaseReport> GetCaseReport(
      const Principal& p, const cases::v1::GetCaseReportRequest& r) const {
    return reports_.GetCaseReport(p, r);
  }
  absl::StatusOr<cases::v1::PreviewDeadlinesResponse> PreviewDeadlines(
      const Principal& p, const cases::v1::PreviewDeadlinesRequest& r) const;

  // The papers of a case (rendered on the calling thread; a first issue is
  // recorded before `done`) and the citizens' status look-up.
  void GetCaseDocument(const Principal& p, const cases::v1::GetCaseDocumentRequest& r,
                       Callback<cases::v1::CaseDocument> done) {
    documents_.GetCaseDocument(p, r, std::move(done));
  }
  absl::StatusOr<cases::v1::CaseStatus> LookupCaseStatus(
      const cases::v1::LookupCaseStatusRequest& r) const {
    return documents_.LookupCaseStatus(r);
  }
  const CaseDocuments& documents() const { return documents_; }

  // Start-up, before serving: the running clocks of cases owned here are
  // counted again on the calendar now loaded (a year published, a
  // provisional year's rule changed). Each case whose due dates change is
  // rewritten in one write with an audit event naming each step's old and
  // new date; nothing else changes. Returns how many cases changed.
  absl::StatusOr<int> RecomputeClocksForCalendar();

  // The open/overdue gauges, computed when scraped; register with the
  // metrics exposer.
  std::shared_ptr<prometheus::Collectable> deadline_metrics() const { return board_; }
  // The subtree's open, overdue and at-risk cases and pending handoffs per
  // unit (oversight), for the metrics and the oversight page.
  std::shared_ptr<SubtreeBoard> subtree_board() const { return subtree_; }

 private:
  Deps d_;
  CaseRecords records_;
  std::shared_ptr<SubtreeBoard> subtree_;
  std::shared_ptr<DeadlineBoard> board_;
  CaseClocks clocks_;
  CaseDuplicates duplicates_;
  CaseReplicas replicas_;
  SubtreeChecks checks_;
  FirstComplaintLinks links_;
  OwnershipCheck ownership_;
  CaseHandoffs handoffs_;
  CaseIntake intake_;
  CaseTransitions transitions_;
  CaseQueries queries_;
  CaseReports reports_;
  CaseDocuments documents_;
  absl::Status facts_status_;

  // Start-up: report facts for a store written before they existed.
  absl::Status BackfillReportFacts();
  // Start-up: this node's own cases in the subtree index, once per
  // matching key.
  absl::Status BackfillSubtreeIndex();
};

}  // namespace reception

#endif  // RECEPTION_SERVICES_CASE_CASE_REGISTRY_H_
