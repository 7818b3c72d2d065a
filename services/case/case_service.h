// The gRPC edge of the case service: authenticates the caller, hands the
// request to the CaseRegistry, maps the result through ToGrpcStatus. Never
// blocks a reactor on disk: mutations complete from the store's writer.
#ifndef RECEPTION_SERVICES_CASE_CASE_SERVICE_H_
#define RECEPTION_SERVICES_CASE_CASE_SERVICE_H_

#include <functional>
#include <map>
#include <memory>
#include <thread>

#include "reception/cases/v1/case_service.grpc.pb.h"
#include "reception/cases/v1/handoff_service.grpc.pb.h"
#include "reception/federation/v1/case_federation.grpc.pb.h"
#include "reception/media/v1/media_service.grpc.pb.h"
#include "services/case/case_registry.h"
#include "services/case/handoff_worker.h"
#include "services/case/oversight_feed.h"
#include "services/common/auth.h"
#include "services/common/node_runtime.h"
#include "services/common/rate_limiter.h"
#include "services/common/work_pool.h"
#include "services/documents/form_book.h"

namespace reception {

class CaseGrpcService final : public cases::v1::CaseService::CallbackService {
 public:
  // Point reads run on the reactor thread (microseconds, no disk wait in
  // practice); scans run on `scans`, mutations complete from the store.
  // `peers`: the case services of the other nodes, by unit; GetCase of a
  // case owned by one of them asks it first (within `forward_timeout`) and
  // falls back to the local read-only copy.
  CaseGrpcService(CaseRegistry* registry, const Authenticator* auth, WorkPool* scans,
                  std::string unit_code = "",
                  std::map<std::string, std::unique_ptr<cases::v1::CaseService::Stub>> peers = {},
                  absl::Duration forward_timeout = absl::Seconds(1))
      : registry_(registry),
        auth_(auth),
        scans_(scans),
        unit_code_(std::move(unit_code)),
        peers_(std::move(peers)),
        forward_timeout_(forward_timeout) {}

  using Ctx = grpc::CallbackServerContext;
  using Reactor = grpc::ServerUnaryReactor;

  // The feeds this node follows: a report names the ones not current.
  void set_follower(const FeedFollower* follower) { follower_ = follower; }

  Reactor* CreateCase(Ctx*, const cases::v1::CreateCaseRequest*, cases::v1::Case*) override;
  Reactor* GetCase(Ctx*, const cases::v1::GetCaseRequest*, cases::v1::Case*) override;
  Reactor* ListCases(Ctx*, const cases::v1::ListCasesRequest*,
                     cases::v1::ListCasesResponse*) override;
  Reactor* GetCaseReport(Ctx*, const cases::v1::GetCaseReportRequest*,
                         cases::v1::CaseReport*) override;
  Reactor* ClassifyCase(Ctx*, const cases::v1::ClassifyCaseRequest*, cases::v1::Case*) override;
  Reactor* AcceptCase(Ctx*, const cases::v1::AcceptCaseRequest*, cases::v1::Case*) override;
  Reactor* RefuseCase(Ctx*, const cases::v1::RefuseCaseRequest*, cases::v1::Case*) override;
  Reactor* GuideCase(Ctx*, const cases::v1::GuideCaseRequest*, cases::v1::Case*) override;
  Reactor* ArchiveCase(Ctx*, const cases::v1::ArchiveCaseRequest*, cases::v1::Case*) override;
  Reactor* StartCaseVerification(Ctx*, const cases::v1::StartCaseVerificationRequest*,
                                 cases::v1::Case*) override;
  Reactor* SuspendCase(Ctx*, const cases::v1::SuspendCaseRequest*, cases::v1::Case*) override;
  Reactor* ResumeCase(Ctx*, const cases::v1::ResumeCaseRequest*, cases::v1::Case*) override;
  Reactor* DecideCase(Ctx*, const cases::v1::DecideCaseRequest*, cases::v1::Case*) override;
  Reactor* CloseCase(Ctx*, const cases::v1::CloseCaseRequest*, cases::v1::Case*) override;
  Reactor* UpdateCase(Ctx*, const cases::v1::UpdateCaseRequest*, cases::v1::Case*) override;
  Reactor* PublishDecision(Ctx*, const cases::v1::PublishDecisionRequest*,
                           cases::v1::Case*) override;
  Reactor* WithdrawCase(Ctx*, const cases::v1::WithdrawCaseRequest*, cases::v1::Case*) override;
  Reactor* GetCaseHistory(Ctx*, const cases::v1::GetCaseHistoryRequest*,
                          cases::v1::GetCaseHistoryResponse*) override;
  Reactor* VerifyCaseHistory(Ctx*, const cases::v1::VerifyCaseHistoryRequest*,
                             cases::v1::VerifyCaseHistoryResponse*) override;
  Reactor* RevealDenouncerIdentity(Ctx*, const cases::v1::RevealDenouncerIdentityRequest*,
                                   cases::v1::RevealDenouncerIdentityResponse*) override;
  Reactor* ExportReceptionLog(Ctx*, const cases::v1::ExportReceptionLogRequest*,
                              cases::v1::ExportReceptionLogResponse*) override;
  Reactor* DeclareCaseComplexity(Ctx*, const cases::v1::DeclareCaseComplexityRequest*,
                                 cases::v1::Case*) override;
  Reactor* ExtendCaseDeadline(Ctx*, const cases::v1::ExtendCaseDeadlineRequest*,
                              cases::v1::Case*) override;
  Reactor* PreviewDeadlines(Ctx*, const cases::v1::PreviewDeadlinesRequest*,
                            cases::v1::PreviewDeadlinesResponse*) override;
  // Rendered on `scans` (milliseconds of CPU).
  Reactor* GetCaseDocument(Ctx*, const cases::v1::GetCaseDocumentRequest*,
                           cases::v1::CaseDocument*) override;
  // Public: no principal; limited per caller address and per node.
  Reactor* LookupCaseStatus(Ctx*, const cases::v1::LookupCaseStatusRequest*,
                            cases::v1::CaseStatus*) override;

  // The look-up's limits (unset: every look-up is refused as limited).
  void set_lookup_limiter(RateLimiter* limiter) { lookups_ = limiter; }

 private:
  CaseRegistry* registry_;
  const Authenticator* auth_;
  WorkPool* scans_;
  RateLimiter* lookups_ = nullptr;
  std::string unit_code_;
  std::map<std::string, std::unique_ptr<cases::v1::CaseService::Stub>> peers_;
  const FeedFollower* follower_ = nullptr;
  absl::Duration forward_timeout_;
};

// Handoffs between nodes: the public methods (the node-to-node side is
// CaseFederationGrpcService).
class HandoffGrpcService final : public cases::v1::HandoffService::CallbackService {
 public:
  // `follower`: the feeds this node follows (nullptr: none).
  HandoffGrpcService(CaseRegistry* registry, const Authenticator* auth, WorkPool* scans,
                     const HandoffWorker* worker, const FeedFollower* follower = nullptr)
      : registry_(registry), auth_(auth), scans_(scans), worker_(worker), follower_(follower) {}

  using Ctx = grpc::CallbackServerContext;
  using Reactor = grpc::ServerUnaryReactor;

  Reactor* TransferCase(Ctx*, const cases::v1::TransferCaseRequest*, cases::v1::Handoff*) override;
  Reactor* ReturnCase(Ctx*, const cases::v1::ReturnCaseRequest*, cases::v1::Handoff*) override;
  Reactor* DisputeJurisdiction(Ctx*, const cases::v1::DisputeJurisdictionRequest*,
                               cases::v1::JurisdictionResponse*) override;
  Reactor* ResolveJurisdiction(Ctx*, const cases::v1::ResolveJurisdictionRequest*,
                               cases::v1::JurisdictionResponse*) override;
  Reactor* GetHandoff(Ctx*, const cases::v1::GetHandoffRequest*, cases::v1::Handoff*) override;
  Reactor* ListHandoffs(Ctx*, const cases::v1::ListHandoffsRequest*,
                        cases::v1::ListHandoffsResponse*) override;
  Reactor* GetFederationStatus(Ctx*, const cases::v1::GetFederationStatusRequest*,
                               cases::v1::FederationStatus*) override;

 private:
  CaseRegistry* registry_;
  const Authenticator* auth_;
  WorkPool* scans_;
  const HandoffWorker* worker_;
  const FeedFollower* follower_;
};

// The internal node-to-node API of the case service
// (reception.federation.v1.CaseFederationService): node certificates only.
class CaseFederationGrpcService final
    : public federation::v1::CaseFederationService::CallbackService {
 public:
  struct Deps {
    CaseRegistry* registry = nullptr;
    const Authenticator* auth = nullptr;
    const NodeKey* node_key = nullptr;
    std::string unit_code;
    // This node's media service (the room a minutes attachment names is
    // checked there before anything is written); nullptr until reachable.
    std::function<std::shared_ptr<grpc::Channel>()> media_channel;
    std::string in_process_secret;    // for calls over the local channel
    bool crash_after_import = false;  // test seam
    // The change feed's durable head (WatchCaseFeed waits on it) and how
    // often a caught-up watch hears from this node.
    SequenceWatch* feed_watch = nullptr;
    absl::Duration feed_heartbeat = absl::Seconds(2);
    // How long a caught-up stream waits for a full page after a change.
    absl::Duration feed_batch = absl::Milliseconds(50);
    WorkPool* scans = nullptr;  // feed pages are read there
  };
  explicit CaseFederationGrpcService(Deps deps) : d_(std::move(deps)) {}

  using Ctx = grpc::CallbackServerContext;
  using Reactor = grpc::ServerUnaryReactor;

  Reactor* OfferHandoff(Ctx*, const federation::v1::OfferHandoffRequest*,
                        federation::v1::OfferHandoffResponse*) override;
  Reactor* GetNodeKey(Ctx*, const federation::v1::GetNodeKeyRequest*,
                      federation::v1::NodeKey*) override;
  Reactor* AttachCaseMinutes(Ctx*, const federation::v1::AttachCaseMinutesRequest*,
                             cases::v1::Case*) override;
  Reactor* ReadCaseFeed(Ctx*, const federation::v1::ReadCaseFeedRequest*,
                        federation::v1::CaseFeedPage*) override;
  grpc::ServerWriteReactor<federation::v1::CaseFeedPage>* WatchCaseFeed(
      Ctx*, const federation::v1::WatchCaseFeedRequest*) override;
  Reactor* FindRelatedCases(Ctx*, const federation::v1::FindRelatedCasesRequest*,
                            federation::v1::FindRelatedCasesResponse*) override;
  Reactor* CheckFirstComplaint(Ctx*, const federation::v1::CheckFirstComplaintRequest*,
                               federation::v1::CheckFirstComplaintResponse*) override;
  Reactor* CheckCaseOwners(Ctx*, const federation::v1::CheckCaseOwnersRequest*,
                           federation::v1::CheckCaseOwnersResponse*) override;

 private:
  Deps d_;
  absl::Mutex mu_;
  std::shared_ptr<media::v1::MediaService::Stub> media_ ABSL_GUARDED_BY(mu_);
};

// The case service as a node module: its store, key vault, registry and
// gRPC service.
class CaseModule final : public ServiceModule {
 public:
  static absl::StatusOr<std::unique_ptr<ServiceModule>> Create(const NodeContext& context);
  ~CaseModule() override;

  grpc::Service* service() override { return service_.get(); }
  std::string service_name() const override { return "reception.cases.v1.CaseService"; }
  bool ready() const override { return store_ && store_->healthy(); }
  std::vector<std::shared_ptr<prometheus::Collectable>> collectables() const override {
    return {registry_->deadline_metrics(), registry_->subtree_board(), Outbox::AllMetrics()};
  }
  // The subtree as a tree with its counts and feeds, and the report of the
  // chosen period (?month=YYYY-MM or ?quarter=YYYY-QN; default this month).
  std::string OversightSection(const Principal& who,
                               const std::map<std::string, std::string>& query) const override;
  std::vector<std::pair<grpc::Service*, std::string>> extra_services() override {
    return {{handoff_service_.get(), "reception.cases.v1.HandoffService"},
            {federation_service_.get(), "reception.federation.v1.CaseFederationService"}};
  }

 private:
  CaseModule() = default;
  const NodeContext* context_ = nullptr;
  std::unique_ptr<Store> store_;
  std::unique_ptr<IdentityVault> vault_;
  std::unique_ptr<DeadlineEngine> deadlines_;
  std::unique_ptr<NodeKey> node_key_;
  std::unique_ptr<documents::FormBook> forms_;
  std::unique_ptr<RateLimiter> lookups_;
  std::unique_ptr<SequenceWatch> feed_watch_;
  std::unique_ptr<FeedFollower> follower_;
  // Compacts this node's feed every feed_compact_seconds.
  void CompactLoop(absl::Duration every);
  absl::Mutex compact_mu_;
  bool stopping_ ABSL_GUARDED_BY(compact_mu_) = false;
  std::thread compactor_;
  std::shared_ptr<HandoffWorker> worker_;
  std::unique_ptr<HandoffGrpcService> handoff_service_;
  std::unique_ptr<CaseFederationGrpcService> federation_service_;
  std::unique_ptr<CaseRegistry> registry_;
  std::unique_ptr<WorkPool> scans_;
  std::unique_ptr<CaseGrpcService> service_;
};

}  // namespace reception

#endif  // RECEPTION_SERVICES_CASE_CASE_SERVICE_H_
