// The scheduling service's gRPC edge and node module: the durable registry,
// and one background thread that carries the outbox to other nodes
// (sessions to their bridges, registrations to their hosts; exponential
// backoff per peer while it is unreachable) and asks the media service for
// each online session's room (created with the session, closed when it
// ends).
#ifndef RECEPTION_SERVICES_SCHEDULING_SCHEDULING_SERVICE_H_
#define RECEPTION_SERVICES_SCHEDULING_SCHEDULING_SERVICE_H_

#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "CivetServer.h"
#include "absl/synchronization/mutex.h"
#include "prometheus/collectable.h"
#include "reception/cases/v1/case_service.grpc.pb.h"
#include "reception/federation/v1/scheduling_federation.grpc.pb.h"
#include "reception/media/v1/media_service.grpc.pb.h"
#include "reception/scheduling/v1/scheduling_service.grpc.pb.h"
#include "services/common/auth.h"
#include "services/common/node_runtime.h"
#include "services/common/store.h"
#include "services/scheduling/scheduling_registry.h"

namespace reception::scheduling {

class SchedulingGrpcService final : public v1::SchedulingService::CallbackService {
 public:
  // `case_channel`: this node's case service (registrations naming a
  // protected case are protected), nullptr until reachable.
  SchedulingGrpcService(SchedulingRegistry* registry, const Authenticator* auth,
                        std::string unit_code = "",
                        std::function<std::shared_ptr<grpc::Channel>()> case_channel = nullptr,
                        std::string in_process_secret = "")
      : registry_(registry),
        auth_(auth),
        unit_code_(std::move(unit_code)),
        case_channel_(std::move(case_channel)),
        in_process_secret_(std::move(in_process_secret)) {}
  using Ctx = grpc::CallbackServerContext;
  using Reactor = grpc::ServerUnaryReactor;

  Reactor* SetReceptionPlan(Ctx*, const v1::SetReceptionPlanRequest*, v1::ReceptionPlan*) override;
  Reactor* GetReceptionPlan(Ctx*, const v1::GetReceptionPlanRequest*, v1::ReceptionPlan*) override;
  Reactor* ListPlannedDays(Ctx*, const v1::ListPlannedDaysRequest*,
                           v1::ListPlannedDaysResponse*) override;
  Reactor* CreateSession(Ctx*, const v1::CreateSessionRequest*, v1::Session*) override;
  Reactor* GetSession(Ctx*, const v1::GetSessionRequest*, v1::Session*) override;
  Reactor* ListSessions(Ctx*, const v1::ListSessionsRequest*, v1::ListSessionsResponse*) override;
  Reactor* RescheduleSession(Ctx*, const v1::RescheduleSessionRequest*, v1::Session*) override;
  Reactor* CancelSession(Ctx*, const v1::CancelSessionRequest*, v1::Session*) override;
  Reactor* RecordSession(Ctx*, const v1::RecordSessionRequest*, v1::Session*) override;
  Reactor* RegisterCitizen(Ctx*, const v1::RegisterCitizenRequest*, v1::Registration*) override;
  Reactor* CancelRegistration(Ctx*, const v1::CancelRegistrationRequest*,
                              v1::Registration*) override;
  Reactor* CheckInCitizen(Ctx*, const v1::CheckInCitizenRequest*, v1::Registration*) override;
  Reactor* GetSessionAgenda(Ctx*, const v1::GetSessionAgendaRequest*, v1::SessionAgenda*) override;
  Reactor* ListNotifications(Ctx*, const v1::ListNotificationsRequest*,
                             v1::ListNotificationsResponse*) override;
  Reactor* GetComplianceReport(Ctx*, const v1::GetComplianceReportRequest*,
                               v1::ComplianceReport*) override;
  Reactor* ExportCalendar(Ctx*, const v1::ExportCalendarRequest*,
                          v1::ExportCalendarResponse*) override;

 private:
  SchedulingRegistry* registry_;
  const Authenticator* auth_;
  const std::string unit_code_;
  const std::function<std::shared_ptr<grpc::Channel>()> case_channel_;
  const std::string in_process_secret_;
  absl::Mutex mu_;
  std::shared_ptr<cases::v1::CaseService::Stub> cases_ ABSL_GUARDED_BY(mu_);
};

// The internal node-to-node API of the scheduling service
// (reception.federation.v1.SchedulingFederationService): node certificates only.
class SchedulingFederationGrpcService final
    : public federation::v1::SchedulingFederationService::CallbackService {
 public:
  SchedulingFederationGrpcService(SchedulingRegistry* registry, const Authenticator* auth)
      : registry_(registry), auth_(auth) {}
  using Ctx = grpc::CallbackServerContext;
  using Reactor = grpc::ServerUnaryReactor;

  Reactor* OfferSessionNotice(Ctx*, const federation::v1::OfferSessionNoticeRequest*,
                              federation::v1::OfferSessionNoticeResponse*) override;
  Reactor* OfferRegistration(Ctx*, const federation::v1::OfferRegistrationRequest*,
                             v1::Registration*) override;

 private:
  SchedulingRegistry* registry_;
  const Authenticator* auth_;
};

class SchedulingModule final : public ServiceModule {
 public:
  static absl::StatusOr<std::unique_ptr<ServiceModule>> Create(const NodeContext& context);
  ~SchedulingModule() override;
  grpc::Service* service() override { return service_.get(); }
  std::string service_name() const override { return "reception.scheduling.v1.SchedulingService"; }
  bool ready() const override { return store_ && store_->healthy(); }
  std::vector<std::pair<grpc::Service*, std::string>> extra_services() override {
    return {{federation_service_.get(), "reception.federation.v1.SchedulingFederationService"}};
  }
  // Sessions by kind and state, and the outbox by peer.
  // The outbox's series come with every outbox of the process (AllMetrics).
  std::vector<std::shared_ptr<prometheus::Collectable>> collectables() const override {
    return {gauges_, Outbox::AllMetrics()};
  }
  // Today's and the next fortnight's sessions of this node.
  std::string OversightSection(const Principal& who,
                               const std::map<std::string, std::string>& query) const override;

 private:
  SchedulingModule() = default;
  void Loop();
  // One pass: rooms to create or close.
  // Sends one outbox item to its peer (the outbox's Deliver).
  void Send(const internal::OutboxItem& item, absl::AnyInvocable<void(Outbox::Answer)> answer);
  void DoRoomWork();

  std::string unit_code_;
  const Clock* clock_ = nullptr;
  std::string in_process_secret_;
  absl::Duration call_timeout_ = absl::Seconds(5);
  std::function<std::shared_ptr<grpc::Channel>()> local_channel_;
  std::unique_ptr<media::v1::MediaService::Stub> media_;
  std::map<std::string, std::unique_ptr<federation::v1::SchedulingFederationService::Stub>> peers_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<IdentityVault> vault_;
  std::unique_ptr<SchedulingRegistry> registry_;
  std::unique_ptr<SchedulingGrpcService> service_;
  std::unique_ptr<SchedulingFederationGrpcService> federation_service_;
  std::shared_ptr<prometheus::Collectable> gauges_;
  // The HTTP iCalendar feed (calendar_feed_address), when configured.
  std::unique_ptr<CivetHandler> feed_handler_;
  std::unique_ptr<CivetServer> feed_;
  absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  bool kicked_ ABSL_GUARDED_BY(mu_) = false;
  std::thread worker_;
};

}  // namespace reception::scheduling

#endif  // RECEPTION_SERVICES_SCHEDULING_SCHEDULING_SERVICE_H_
