#include "services/scheduling/scheduling_service.h"

#include <filesystem>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "grpcpp/grpcpp.h"
#include "prometheus/client_metric.h"
#include "prometheus/metric_family.h"
#include "services/common/admin_page.h"
#include "services/common/civil_date.h"
#include "services/common/grpc_status.h"
#include "services/common/logging.h"
#include "services/common/text.h"

namespace reception::scheduling {
namespace {

grpc::ServerUnaryReactor* Finish(grpc::CallbackServerContext* ctx, const absl::Status& s) {
  auto* reactor = ctx->DefaultReactor();
  reactor->Finish(ToGrpcStatus(s));
  return reactor;
}

template <typename T>
grpc::ServerUnaryReactor* Answer(grpc::CallbackServerContext* ctx, absl::StatusOr<T> r, T* resp) {
  if (r.ok()) *resp = *std::move(r);
  return Finish(ctx, r.status());
}

// An asynchronous registry call answered when its callback runs.
template <typename T>
Callback<T> Reply(grpc::ServerUnaryReactor* reactor, T* resp) {
  return [reactor, resp](absl::StatusOr<T> r) {
    if (r.ok()) *resp = *std::move(r);
    reactor->Finish(ToGrpcStatus(r.status()));
  };
}

// The same for a registration answered to people: the citizen ID masked.
Callback<v1::Registration> ReplyMasked(grpc::ServerUnaryReactor* reactor, v1::Registration* resp) {
  return [reactor, resp](absl::StatusOr<v1::Registration> r) {
    if (r.ok()) *resp = SchedulingRegistry::ForPeople(*std::move(r));
    reactor->Finish(ToGrpcStatus(r.status()));
  };
}

// The scheduling gauges, computed when scraped.
class SchedulingGauges final : public prometheus::Collectable {
 public:
  explicit SchedulingGauges(const SchedulingRegistry* registry) : registry_(registry) {}
  std::vector<prometheus::MetricFamily> Collect() const override {
    prometheus::MetricFamily sessions{
        "reception_scheduling_sessions",
        "Sessions held at this node (hosted here or copies of a host's), by kind and state",
        prometheus::MetricType::Gauge,
        {}};
    for (const auto& [key, n] : registry_->SessionCounts()) {
      prometheus::ClientMetric m;
      m.label = {{"kind", key.first}, {"state", key.second}};
      m.gauge.value = n;
      sessions.metric.push_back(std::move(m));
    }
    return {std::move(sessions)};
  }

 private:
  const SchedulingRegistry* registry_;
};

// GET /calendar.ics: the unit's sessions and periodic reception days from a
// month ago to a year ahead, cut at the last year the working calendar
// covers (periodic days cannot be placed beyond it).
class CalendarFeed final : public CivetHandler {
 public:
  CalendarFeed(const SchedulingRegistry* registry, const Clock* clock)
      : registry_(registry), clock_(clock) {}
  bool handleGet(CivetServer*, struct mg_connection* conn) override {
    const absl::CivilDay today = clock_->Today();
    v1::ExportCalendarRequest r;
    *r.mutable_from() = ToProtoDate(today - 31);
    absl::StatusOr<std::string> ical = absl::UnknownError("no range");
    for (absl::CivilDay to = today + 365; to >= today; to = absl::CivilDay(to.year(), 1, 1) - 1) {
      *r.mutable_to() = ToProtoDate(to);
      ical = registry_->ExportCalendar(r);
      if (ical.status().code() != absl::StatusCode::kOutOfRange) break;
    }
    if (!ical.ok()) {
      mg_send_http_error(conn, 503, "%s", "the reception calendar cannot be exported now");
      Log()->warn("event=calendar_feed_failed error={}", LogValue(ical.status().message()));
      return true;
    }
    mg_send_http_ok(conn, "text/calendar; charset=utf-8", static_cast<long long>(ical->size()));
    mg_write(conn, ical->data(), ical->size());
    return true;
  }

 private:
  const SchedulingRegistry* registry_;
  const Clock* clock_;
};

}  // namespace

#define RECEPTION_AUTH()                      \
  auto principal = auth_->Authenticate(*ctx); \
  if (!principal.ok()) return Finish(ctx, principal.status());

grpc::ServerUnaryReactor* SchedulingGrpcService::CreateSession(Ctx* ctx,
                                                               const v1::CreateSessionRequest* req,
                                                               v1::Session* resp) {
  RECEPTION_AUTH();
  auto* reactor = ctx->DefaultReactor();
  registry_->CreateSession(*principal, *req, Reply(reactor, resp));
  return reactor;
}

grpc::ServerUnaryReactor* SchedulingGrpcService::RescheduleSession(
    Ctx* ctx, const v1::RescheduleSessionRequest* req, v1::Session* resp) {
  RECEPTION_AUTH();
  auto* reactor = ctx->DefaultReactor();
  registry_->RescheduleSession(*principal, *req, Reply(reactor, resp));
  return reactor;
}

grpc::ServerUnaryReactor* SchedulingGrpcService::CancelSession(Ctx* ctx,
                                                               const v1::CancelSessionRequest* req,
                                                               v1::Session* resp) {
  RECEPTION_AUTH();
  auto* reactor = ctx->DefaultReactor();
  registry_->CancelSession(*principal, *req, Reply(reactor, resp));
  return reactor;
}

grpc::ServerUnaryReactor* SchedulingGrpcService::RecordSession(Ctx* ctx,
                                                               const v1::RecordSessionRequest* req,
                                                               v1::Session* resp) {
  RECEPTION_AUTH();
  auto* reactor = ctx->DefaultReactor();
  registry_->RecordSession(*principal, *req, Reply(reactor, resp));
  return reactor;
}

grpc::ServerUnaryReactor* SchedulingGrpcService::CancelRegistration(
    Ctx* ctx, const v1::CancelRegistrationRequest* req, v1::Registration* resp) {
  RECEPTION_AUTH();
  auto* reactor = ctx->DefaultReactor();
  registry_->CancelRegistration(*principal, *req, ReplyMasked(reactor, resp));
  return reactor;
}

grpc::ServerUnaryReactor* SchedulingGrpcService::CheckInCitizen(
    Ctx* ctx, const v1::CheckInCitizenRequest* req, v1::Registration* resp) {
  RECEPTION_AUTH();
  auto* reactor = ctx->DefaultReactor();
  registry_->CheckInCitizen(*principal, *req, ReplyMasked(reactor, resp));
  return reactor;
}

// A registration naming a case this node holds as protected (a
// denunciation) is protected whatever the request said: the case service
// is asked first (as this node, over the in-process channel).
grpc::ServerUnaryReactor* SchedulingGrpcService::RegisterCitizen(
    Ctx* ctx, const v1::RegisterCitizenRequest* req, v1::Registration* resp) {
  RECEPTION_AUTH();
  auto* reactor = ctx->DefaultReactor();
  std::shared_ptr<cases::v1::CaseService::Stub> cases;
  if (!req->registration().case_().empty() && !req->registration().identity_protected()) {
    absl::MutexLock lock(&mu_);
    if (!cases_ && case_channel_) {
      if (auto channel = case_channel_()) cases_ = cases::v1::CaseService::NewStub(channel);
    }
    cases = cases_;
  }
  if (!cases) {
    registry_->RegisterCitizen(*principal, *req, ReplyMasked(reactor, resp));
    return reactor;
  }
  struct Lookup {
    grpc::ClientContext ctx;
    cases::v1::GetCaseRequest get;
    cases::v1::Case c;
    v1::RegisterCitizenRequest request;
  };
  auto lookup = std::make_shared<Lookup>();
  lookup->request = *req;
  lookup->get.set_name(req->registration().case_());
  AddNodeIdentity(unit_code_, in_process_secret_, &lookup->ctx, absl::Seconds(2));
  cases->async()->GetCase(&lookup->ctx, &lookup->get, &lookup->c,
                          [this, lookup, cases, reactor, resp, p = *principal](grpc::Status s) {
                            // Unknown here (another node's case) or unreachable: as requested.
                            if (s.ok() && lookup->c.identity_protected()) {
                              lookup->request.mutable_registration()->set_identity_protected(true);
                            }
                            registry_->RegisterCitizen(p, lookup->request,
                                                       ReplyMasked(reactor, resp));
                          });
  return reactor;
}

grpc::ServerUnaryReactor* SchedulingGrpcService::SetReceptionPlan(
    Ctx* ctx, const v1::SetReceptionPlanRequest* req, v1::ReceptionPlan* resp) {
  RECEPTION_AUTH();
  auto* reactor = ctx->DefaultReactor();
  registry_->SetPlan(*principal, req->plan(), Reply(reactor, resp));
  return reactor;
}

grpc::ServerUnaryReactor* SchedulingGrpcService::GetReceptionPlan(
    Ctx* ctx, const v1::GetReceptionPlanRequest*, v1::ReceptionPlan* resp) {
  RECEPTION_AUTH();
  *resp = registry_->Plan();
  return Finish(ctx, absl::OkStatus());
}

grpc::ServerUnaryReactor* SchedulingGrpcService::ListPlannedDays(
    Ctx* ctx, const v1::ListPlannedDaysRequest* req, v1::ListPlannedDaysResponse* resp) {
  RECEPTION_AUTH();
  return Answer(ctx, registry_->ListPlannedDays(*req), resp);
}

grpc::ServerUnaryReactor* SchedulingGrpcService::GetSession(Ctx* ctx,
                                                            const v1::GetSessionRequest* req,
                                                            v1::Session* resp) {
  RECEPTION_AUTH();
  return Answer(ctx, registry_->GetSession(req->name()), resp);
}

grpc::ServerUnaryReactor* SchedulingGrpcService::ListSessions(Ctx* ctx,
                                                              const v1::ListSessionsRequest* req,
                                                              v1::ListSessionsResponse* resp) {
  RECEPTION_AUTH();
  return Answer(ctx, registry_->ListSessions(*req), resp);
}

grpc::ServerUnaryReactor* SchedulingGrpcService::GetSessionAgenda(
    Ctx* ctx, const v1::GetSessionAgendaRequest* req, v1::SessionAgenda* resp) {
  RECEPTION_AUTH();
  return Answer(ctx, registry_->Agenda(*principal, req->session()), resp);
}

grpc::ServerUnaryReactor* SchedulingGrpcService::ListNotifications(
    Ctx* ctx, const v1::ListNotificationsRequest* req, v1::ListNotificationsResponse* resp) {
  RECEPTION_AUTH();
  return Answer(ctx, registry_->Notifications(*req), resp);
}

grpc::ServerUnaryReactor* SchedulingGrpcService::GetComplianceReport(
    Ctx* ctx, const v1::GetComplianceReportRequest* req, v1::ComplianceReport* resp) {
  RECEPTION_AUTH();
  return Answer(ctx, registry_->Compliance(*req), resp);
}

grpc::ServerUnaryReactor* SchedulingGrpcService::ExportCalendar(
    Ctx* ctx, const v1::ExportCalendarRequest* req, v1::ExportCalendarResponse* resp) {
  RECEPTION_AUTH();
  auto ical = registry_->ExportCalendar(*req);
  if (ical.ok()) resp->set_ical(*std::move(ical));
  return Finish(ctx, ical.status());
}

grpc::ServerUnaryReactor* SchedulingFederationGrpcService::OfferSessionNotice(
    Ctx* ctx, const federation::v1::OfferSessionNoticeRequest* req,
    federation::v1::OfferSessionNoticeResponse* resp) {
  RECEPTION_AUTH();
  auto* reactor = ctx->DefaultReactor();
  registry_->ApplyNotice(*principal, *req, [reactor, resp](absl::StatusOr<int64_t> v) {
    if (v.ok()) resp->set_version(*v);
    reactor->Finish(ToGrpcStatus(v.status()));
  });
  return reactor;
}

grpc::ServerUnaryReactor* SchedulingFederationGrpcService::OfferRegistration(
    Ctx* ctx, const federation::v1::OfferRegistrationRequest* req, v1::Registration* resp) {
  RECEPTION_AUTH();
  auto* reactor = ctx->DefaultReactor();
  registry_->ApplyOffer(*principal, *req, Reply(reactor, resp));
  return reactor;
}
#undef RECEPTION_AUTH

std::string SchedulingModule::OversightSection(const Principal&,
                                               const std::map<std::string, std::string>&) const {
  const absl::CivilDay today = clock_->Today();
  v1::ListSessionsRequest r;
  *r.mutable_from() = ToProtoDate(today);
  *r.mutable_to() = ToProtoDate(today + 14);
  auto sessions = registry_->ListSessions(r);
  std::string html = "<h2>Phiên tiếp công dân trực tuyến (today and the next 14 days)</h2>\n";
  if (!sessions.ok()) {
    return absl::StrCat(html, "<p class=\"bad\">", HtmlEscape(sessions.status().message()),
                        "</p>\n");
  }
  absl::StrAppend(&html,
                  "<table id=\"sessions\"><tr><th>Date</th><th>Time</th><th>Host</th>"
                  "<th>Title</th><th>Bridges</th><th>State</th></tr>\n");
  for (const auto& s : sessions->sessions()) {
    const bool is_today = FormatDate(s.date()) == FormatDate(today);
    absl::StrAppend(
        &html, "<tr data-session=\"", HtmlEscape(s.name()), "\"",
        is_today ? " class=\"today\"" : "", "><td>", FormatDate(s.date()),
        is_today ? " (today)" : "", "</td><td>", HtmlEscape(s.start()), "-", HtmlEscape(s.end()),
        "</td><td>", HtmlEscape(s.host_unit()), "</td><td class=\"name\">", HtmlEscape(s.title()),
        "</td><td>", s.bridges_size(), "</td><td>",
        HtmlEscape(absl::StripPrefix(v1::SessionState_Name(s.state()), "SESSION_STATE_")),
        "</td></tr>\n");
  }
  absl::StrAppend(&html, "</table>\n<p id=\"session-count\">", sessions->sessions_size(),
                  " session(s)</p>\n");
  return html;
}

absl::StatusOr<std::unique_ptr<ServiceModule>> SchedulingModule::Create(
    const NodeContext& context) {
  std::unique_ptr<SchedulingModule> m(new SchedulingModule());
  const auto& config = context.config;
  Store::Options options = context.StoreOptions("scheduling", SchedulingRegistry::ColumnFamilies());
  auto store = Store::Open(options);
  if (!store.ok()) return store.status();
  m->store_ = *std::move(store);
  // The same key file as the case service's protected identities.
  auto vault = IdentityVault::ForNode(config.identity_key_file(), config.data_dir());
  if (!vault.ok()) return vault.status();
  m->vault_ = *std::move(vault);
  SchedulingRegistry::Deps deps;
  deps.store = m->store_.get();
  deps.vault = m->vault_.get();
  deps.calendar = &context.calendar;
  deps.rules = &context.rules;
  deps.topology = &context.topology;
  deps.clock = context.clock;
  deps.unit_code = config.unit_code();
  for (const auto& peer : config.federation().peers()) {
    deps.peers.insert(peer.unit_code());
    m->peers_[peer.unit_code()] = federation::v1::SchedulingFederationService::NewStub(
        context.credentials->NewChannelTo(peer.address(), peer.unit_code()));
  }
  if (config.federation().call_timeout_millis() > 0)
    m->call_timeout_ = absl::Milliseconds(config.federation().call_timeout_millis());
  if (config.federation().retry_initial_millis() > 0)
    deps.retry_initial = absl::Milliseconds(config.federation().retry_initial_millis());
  if (config.federation().retry_max_millis() > 0)
    deps.retry_max = absl::Milliseconds(config.federation().retry_max_millis());
  m->unit_code_ = config.unit_code();
  SchedulingModule* module = m.get();
  deps.send = [module](const internal::OutboxItem& item,
                       absl::AnyInvocable<void(Outbox::Answer)> answer) {
    module->Send(item, std::move(answer));
  };
  auto registry = SchedulingRegistry::Open(std::move(deps));
  if (!registry.ok()) return registry.status();
  m->registry_ = *std::move(registry);
  m->local_channel_ = context.local_channel;
  m->in_process_secret_ = context.in_process_secret;
  m->service_ = std::make_unique<SchedulingGrpcService>(
      m->registry_.get(), context.authenticator, config.unit_code(),
      config.case_service_address().empty()
          ? context.local_channel
          : [address = config.case_service_address(), unit = config.unit_code(),
             creds = context.credentials] { return creds->NewChannelTo(address, unit); },
      context.in_process_secret);
  m->federation_service_ =
      std::make_unique<SchedulingFederationGrpcService>(m->registry_.get(), context.authenticator);
  m->gauges_ = std::make_shared<SchedulingGauges>(m->registry_.get());
  SchedulingModule* self = m.get();
  m->registry_->SetListener([self] {
    absl::MutexLock lock(&self->mu_);
    self->kicked_ = true;
  });
  m->worker_ = std::thread([self] { self->Loop(); });
  m->registry_->outbox()->Start();
  if (!config.calendar_feed_address().empty()) {
    const std::vector<std::string> options = {"listening_ports", config.calendar_feed_address(),
                                              "num_threads", "2"};
    try {
      m->feed_ = std::make_unique<CivetServer>(options);
    } catch (const CivetException& e) {
      return absl::InvalidArgumentError(absl::StrCat("calendar_feed_address ",
                                                     config.calendar_feed_address(),
                                                     " cannot be served: ", e.what()));
    }
    m->feed_handler_ = std::make_unique<CalendarFeed>(m->registry_.get(), context.clock);
    m->feed_->addHandler("/calendar.ics", m->feed_handler_.get());
    Log()->info("event=calendar_feed address={} path=/calendar.ics",
                config.calendar_feed_address());
  }
  m->clock_ = context.clock;
  Log()->info("event=scheduling_service_ready peers={}", m->peers_.size());
  return std::unique_ptr<ServiceModule>(std::move(m));
}

SchedulingModule::~SchedulingModule() {
  feed_.reset();  // stops serving the feed before the registry goes
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (worker_.joinable()) worker_.join();
  if (registry_) {
    // No new deliveries; the answers in flight are recorded while the store
    // is still there.
    registry_->outbox()->Stop();
    registry_->outbox()->Drain();
  }
  store_.reset();
}

void SchedulingModule::Loop() {
  auto woken = [this]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return stop_ || kicked_; };
  absl::MutexLock lock(&mu_);
  while (!stop_) {
    mu_.AwaitWithTimeout(absl::Condition(&woken), absl::Milliseconds(500));
    if (stop_) break;
    kicked_ = false;
    mu_.Unlock();
    DoRoomWork();
    mu_.Lock();
  }
}

void SchedulingModule::Send(const internal::OutboxItem& item,
                            absl::AnyInvocable<void(Outbox::Answer)> answer) {
  auto stub = peers_.find(item.peer());
  if (stub == peers_.end()) {
    return answer({Outbox::Verdict::kRetry,
                   absl::StrCat("unit ", item.peer(), " is not a configured peer"), ""});
  }
  struct Call {
    grpc::ClientContext ctx;
    federation::v1::OfferSessionNoticeRequest notice;
    federation::v1::OfferSessionNoticeResponse notice_answer;
    federation::v1::OfferRegistrationRequest offer;
    v1::Registration registration;
    absl::AnyInvocable<void(Outbox::Answer)> answer;
  };
  auto call = std::make_shared<Call>();
  call->answer = std::move(answer);
  AddNodeIdentity(unit_code_, "", &call->ctx, call_timeout_);
  auto finish = [call](const grpc::Status& s, std::string response) {
    call->answer({DeliveryVerdict(s), s.ok() ? "" : TruncateUtf8(s.error_message(), 300),
                  std::move(response)});
  };
  if (item.has_notice()) {
    *call->notice.mutable_session() = item.notice().session();
    *call->notice.mutable_registrations() = item.notice().registrations();
    stub->second->async()->OfferSessionNotice(&call->ctx, &call->notice, &call->notice_answer,
                                              [call, finish](grpc::Status s) { finish(s, ""); });
    return;
  }
  *call->offer.mutable_registration() = item.registration().registration();
  call->offer.set_request_id(item.registration().request_id());
  stub->second->async()->OfferRegistration(
      &call->ctx, &call->offer, &call->registration, [call, finish](grpc::Status s) {
        finish(s, s.ok() ? call->registration.SerializeAsString() : "");
      });
}

void SchedulingModule::DoRoomWork() {
  auto work = registry_->RoomWorkToDo();
  if (work.empty()) return;
  if (!media_) {
    auto channel = local_channel_ ? local_channel_() : nullptr;
    if (!channel) return;
    media_ = media::v1::MediaService::NewStub(channel);
  }
  for (const auto& w : work) {
    const std::string id =
        absl::StrCat("s-", absl::AsciiStrToLower(w.session.name().substr(strlen("sessions/"))));
    grpc::ClientContext ctx;
    AddNodeIdentity(unit_code_, in_process_secret_, &ctx, call_timeout_);
    media::v1::Room room;
    grpc::Status s;
    if (w.create) {
      media::v1::CreateRoomRequest req;
      req.set_room_id(id.substr(0, 40));
      req.set_session(w.session.name());
      for (const auto& b : w.session.bridges()) req.add_bridges()->set_unit(b.unit());
      s = media_->CreateRoom(&ctx, req, &room);
      if (s.error_code() == grpc::StatusCode::ALREADY_EXISTS)
        s = grpc::Status::OK;  // made before a crash
    } else {
      media::v1::CloseRoomRequest req;
      req.set_name(w.session.room());
      s = media_->CloseRoom(&ctx, req, &room);
      if (s.error_code() == grpc::StatusCode::FAILED_PRECONDITION)
        s = grpc::Status::OK;  // closed already
    }
    if (s.ok()) {
      Log()->info("event=session_room_{} session={} room=rooms/{}", w.create ? "created" : "closed",
                  w.session.name(), id);
      registry_->RoomDone(w.session.name(), w.create, absl::StrCat("rooms/", id.substr(0, 40)), "");
    } else if (w.session.problem().empty()) {
      registry_->RoomDone(
          w.session.name(), w.create, "",
          absl::StrCat("the media service did not ", w.create ? "create" : "close",
                       " the room yet (", s.error_message().substr(0, 200), "); retrying"));
    }
  }
}

}  // namespace reception::scheduling
