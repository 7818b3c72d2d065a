// The register of cases a node holds: intake, lifecycle transitions, the
// hash-chained audit trail, protected identities, listing and the reception
// log. Transport-free: the gRPC adapter (case_service.h) and tests call it
// directly.
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
#include "services/calendar/deadline_engine.h"
#include "services/case/deadline_board.h"
#include "services/case/lifecycle.h"
#include "services/case/node_key.h"
#include "services/case/storage.pb.h"
#include "services/common/clock.h"
#include "services/common/identity_vault.h"
#include "services/common/outbox.h"
#include "services/common/principal.h"
#include "services/common/rule_book.h"
#include "services/common/store.h"
#include "services/common/topology.h"

namespace prometheus {
class Registry;
class Counter;
template <typename T>
class Family;
}  // namespace prometheus

namespace reception {

class CaseRegistry {
 public:
  struct Deps {
    Store* store = nullptr;          // opened with ColumnFamilies()
    const IdentityVault* vault = nullptr;
    const Topology* topology = nullptr;
    const RuleBook* rules = nullptr;
    const DeadlineEngine* deadlines = nullptr;
    const Clock* clock = nullptr;
    prometheus::Registry* metrics = nullptr;  // optional
    std::string unit_code;           // this node's unit
    const NodeKey* node_key = nullptr;  // opens identities sealed for this node
    std::vector<std::string> peer_units;  // units a case may be handed to
    // Offers one queued handoff to its destination (the gRPC side: the
    // HandoffWorker) and answers exactly once. Unset: handoffs wait.
    Outbox::Deliver deliver_handoff;
    // The handoff outbox's backoff (federation retry settings).
    absl::Duration retry_initial = absl::Milliseconds(200);
    absl::Duration retry_max = absl::Seconds(30);
    // Most records one ListCases call examines; past it the call returns the
    // matches so far and a token to continue (AIP-158 allows short pages).
    int list_scan_limit = 10000;
    // Duplicate detection at intake: window and least content similarity.
    int duplicate_window_days = 180;
    int duplicate_min_similarity_percent = 50;
  };

  template <typename T>
  using Callback = absl::AnyInvocable<void(absl::StatusOr<T>)>;

  // The column families this registry needs in its store.
  static std::vector<std::string> ColumnFamilies();

  explicit CaseRegistry(Deps deps);

  // Mutations: `done` runs exactly once, on the store's writer thread, after
  // the change is durable (or with the error). Thread-safe.
  void CreateCase(const Principal& p, const cases::v1::CreateCaseRequest& r, Callback<cases::v1::Case> done);
  void ClassifyCase(const Principal& p, const cases::v1::ClassifyCaseRequest& r, Callback<cases::v1::Case> done);
  void AcceptCase(const Principal& p, const cases::v1::AcceptCaseRequest& r, Callback<cases::v1::Case> done);
  void RefuseCase(const Principal& p, const cases::v1::RefuseCaseRequest& r, Callback<cases::v1::Case> done);
  void GuideCase(const Principal& p, const cases::v1::GuideCaseRequest& r, Callback<cases::v1::Case> done);
  void ArchiveCase(const Principal& p, const cases::v1::ArchiveCaseRequest& r, Callback<cases::v1::Case> done);
  void StartCaseVerification(const Principal& p, const cases::v1::StartCaseVerificationRequest& r,
                             Callback<cases::v1::Case> done);
  void SuspendCase(const Principal& p, const cases::v1::SuspendCaseRequest& r, Callback<cases::v1::Case> done);
  void ResumeCase(const Principal& p, const cases::v1::ResumeCaseRequest& r, Callback<cases::v1::Case> done);
  void DecideCase(const Principal& p, const cases::v1::DecideCaseRequest& r, Callback<cases::v1::Case> done);
  void CloseCase(const Principal& p, const cases::v1::CloseCaseRequest& r, Callback<cases::v1::Case> done);
  void PublishDecision(const Principal& p, const cases::v1::PublishDecisionRequest& r,
                       Callback<cases::v1::Case> done);
  void WithdrawCase(const Principal& p, const cases::v1::WithdrawCaseRequest& r, Callback<cases::v1::Case> done);
  void ExtendCaseDeadline(const Principal& p, const cases::v1::ExtendCaseDeadlineRequest& r,
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
  Outbox* handoff_outbox() const { return handoff_outbox_.get(); }
  const absl::Status& status() const { return status_; }
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

  void RevealDenouncerIdentity(const Principal& p, const cases::v1::RevealDenouncerIdentityRequest& r,
                               Callback<cases::v1::RevealDenouncerIdentityResponse> done);

  // Reads: synchronous point reads and bounded scans. Thread-safe.
  absl::StatusOr<cases::v1::Case> GetCase(const Principal& p, const cases::v1::GetCaseRequest& r) const;
  absl::StatusOr<cases::v1::ListCasesResponse> ListCases(const Principal& p,
                                                         const cases::v1::ListCasesRequest& r) const;
  absl::StatusOr<cases::v1::GetCaseHistoryResponse> GetCaseHistory(
      const Principal& p, const cases::v1::GetCaseHistoryRequest& r) const;
  absl::StatusOr<cases::v1::VerifyCaseHistoryResponse> VerifyCaseHistory(
      const Principal& p, const cases::v1::VerifyCaseHistoryRequest& r) const;
  absl::StatusOr<cases::v1::ExportReceptionLogResponse> ExportReceptionLog(
      const Principal& p, const cases::v1::ExportReceptionLogRequest& r) const;
  absl::StatusOr<cases::v1::PreviewDeadlinesResponse> PreviewDeadlines(
      const Principal& p, const cases::v1::PreviewDeadlinesRequest& r) const;

  // Start-up, before serving: the running clocks of cases owned here are
  // counted again on the calendar now loaded (a year published, a
  // provisional year's rule changed). Each case whose due dates change is
  // rewritten in one write with an audit event naming each step's old and
  // new date; nothing else changes. Returns how many cases changed.
  absl::StatusOr<int> RecomputeClocksForCalendar();

  // The open/overdue gauges, computed when scraped; register with the
  // metrics exposer.
  std::shared_ptr<prometheus::Collectable> deadline_metrics() const { return board_; }

 private:
  struct Change {
    std::string summary;
    std::vector<std::string> fields;
  };
  using Apply = absl::AnyInvocable<absl::StatusOr<Change>(const WriteTxn& txn, cases::v1::Case& c,
                                                            absl::CivilDay today)>;

  absl::Status CheckWriter(const Principal& p) const;
  // `check_writer` false: the caller has checked who may make this change.
  void Transition(const Principal& p, const std::string& name, const std::string& etag,
                  CaseTransition t, Apply apply, Callback<cases::v1::Case> done,
                  bool check_writer = true);
  // With a txn: the state as the writer sees it; without: committed state.
  absl::StatusOr<std::optional<cases::storage::CaseRecord>> LoadRecord(
      const WriteTxn* txn, const std::string& number) const;
  absl::StatusOr<cases::storage::CaseRecord> LoadOwnedRecord(const WriteTxn& txn,
                                                             const std::string& number) const;
  absl::Status AppendEvent(WriteTxn& txn, cases::storage::CaseRecord& rec, const Principal& p,
                           absl::string_view action, const Change& change);
  absl::StatusOr<uint64_t> NextCounter(WriteTxn& txn, const std::string& key);
  // Ends, starts, pauses and recomputes the case's clocks for transition
  // `t` (already applied to `c`).
  absl::Status AdvanceClocks(cases::v1::Case& c, CaseTransition t, absl::CivilDay today) const;
  ClockFacts Facts(const cases::v1::Case& c) const;
  // ClassifyCase's filing-limit facts (start, delays) added to `c` and the
  // limit judged again; what changed, for the audit summary ("" if nothing).
  absl::StatusOr<std::string> AddFilingFacts(const cases::v1::ClassifyCaseRequest& r,
                                             cases::v1::Case& c) const;
  // Where a queued transfer goes and how the audit trail names it; a hook
  // may change all three, or empty `destination` to keep the case here.
  struct TransferPlan {
    std::string destination;
    std::string action;
    std::string summary;  // before the transfer's own words
  };
  using TransferHook =
      std::function<absl::Status(cases::v1::Case&, absl::CivilDay today, TransferPlan&)>;
  void QueueTransfer(const Principal& p, const std::string& name, const std::string& etag,
                     const std::string& destination, const std::string& reason,
                     const std::string& request_id, bool is_return,
                     Callback<cases::v1::Handoff> done, TransferHook hook = nullptr,
                     std::shared_ptr<cases::v1::Case> case_out = nullptr);
  // FAILED_PRECONDITION while the case waits here for this unit's decision
  // on a jurisdiction dispute.
  absl::Status CheckNoDisputeHere(const cases::v1::Case& c) const;
  // Opens a dispute decided by the common ancestor of the two units: `plan`
  // sends the case there (or keeps it here, with the dispute clock running).
  absl::Status OpenDispute(cases::v1::Case& c, const std::string& claimant,
                           const std::string& disputed, const std::string& reason, bool automatic,
                           absl::CivilDay today, TransferPlan& plan) const;
  // Records a return; a second one to the same unit opens a dispute.
  absl::Status RecordReturn(cases::v1::Case& c, absl::CivilDay today, const std::string& reason,
                            TransferPlan& plan) const;
  // The answer to an offered handoff, in the outbox's settling write:
  // delivered (the copy here records the new owner, the identity leaves
  // with the case) or refused (an attempt with its error).
  absl::Status SettleHandoff(const Outbox::Item& item, const Outbox::Answer& answer, WriteTxn& txn);
  // Pending outgoing handoffs get the outbox's live attempts and error.
  void DecorateHandoffs(const std::vector<cases::v1::Handoff*>& handoffs) const;
  // Opens the handoff outbox and moves queue entries of the format before
  // it over.
  absl::Status OpenHandoffOutbox();
  // Fills the fields computed when served (overdue flags).
  void Decorate(cases::v1::Case& c, absl::CivilDay today) const;
  struct ListFilters {
    const cases::v1::ListCasesRequest* request = nullptr;
    int page_size = 50;
    std::optional<absl::CivilDay> from, to;          // received
    std::optional<absl::CivilDay> due_from, due_to;  // running due date
    bool by_due = false;    // walk the due index first
    bool due_only = false;  // only cases with a running clock
    std::vector<std::string> tokens;
    // Read scope: only cases received at this unit or below (empty: all).
    std::string received_within;
  };
  // The unit a reader is limited to: a caller of a unit below this node's
  // (a bridge point without its own node) reads only the cases received at
  // its unit or below; this node's unit, its ancestors (oversight) and nodes
  // read all. Empty: no limit.
  std::string ReadScope(const Principal& p) const;
  absl::StatusOr<bool> MatchesFilters(const cases::v1::Case& c, const ListFilters& f) const;
  absl::StatusOr<int> GuidancesOnMatter(const WriteTxn& txn, const cases::v1::Case& c) const;
  std::string SearchText(const cases::v1::Case& c) const;
  // Keys of the "citizens" family for a case's unprotected petitioners.
  std::vector<std::string> CitizenKeys(const cases::v1::Case& c) const;
  // Earlier cases (committed) that `c` may repeat.
  absl::StatusOr<std::vector<std::string>> FindDuplicates(const cases::v1::Case& c) const;

  Deps d_;
  rocksdb::ColumnFamilyHandle* cases_;
  rocksdb::ColumnFamilyHandle* events_;
  rocksdb::ColumnFamilyHandle* requests_;
  rocksdb::ColumnFamilyHandle* meta_;
  rocksdb::ColumnFamilyHandle* feed_;
  rocksdb::ColumnFamilyHandle* search_;
  rocksdb::ColumnFamilyHandle* due_;
  rocksdb::ColumnFamilyHandle* handoffs_;
  rocksdb::ColumnFamilyHandle* outbox_;
  rocksdb::ColumnFamilyHandle* citizens_;
  std::shared_ptr<DeadlineBoard> board_;
  std::unique_ptr<Outbox> handoff_outbox_;
  absl::Status status_;
  prometheus::Family<prometheus::Counter>* created_ = nullptr;
  prometheus::Family<prometheus::Counter>* transitions_ = nullptr;
  prometheus::Counter* reveals_ = nullptr;
};

}  // namespace reception

#endif  // RECEPTION_SERVICES_CASE_CASE_REGISTRY_H_
