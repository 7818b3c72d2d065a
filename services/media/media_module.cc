// The media node module: the rooms' store, the minutes outbox to the case
// service, bridges to rooms hosted elsewhere, the heartbeat expiry and the
// gauges. The gRPC edge is media_service.cc; the rules room_service.cc.
#include <algorithm>
#include <deque>
#include <filesystem>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "grpcpp/grpcpp.h"
#include "prometheus/client_metric.h"
#include "prometheus/metric_family.h"
#include "services/common/grpc_status.h"
#include "services/common/logging.h"
#include "services/common/status.h"
#include "services/common/text.h"
#include "services/media/media_service.h"

namespace reception::media {
namespace {

// The media gauges, computed when scraped.
class MediaGauges final : public prometheus::Collectable {
 public:
  MediaGauges(const RoomRegistry* rooms, const RoomWatchers* watchers, const BridgeLinks* bridges)
      : rooms_(rooms), watchers_(watchers), bridges_(bridges) {}
  std::vector<prometheus::MetricFamily> Collect() const override {
    std::map<std::string, double> by_state = {{"scheduled", 0}, {"open", 0}, {"closed", 0}};
    std::map<std::string, double> by_presence;
    double pending = 0;
    for (const auto& id : rooms_->RoomIds()) {
      (void)rooms_->With(id, [&](const Room& room) {
        by_state[room.state() == RoomState::kScheduled ? "scheduled"
                 : room.state() == RoomState::kOpen    ? "open"
                                                       : "closed"]++;
        if (room.state() == RoomState::kOpen) {
          for (const auto& [pid, p] : room.participants())
            by_presence[std::string(PresenceName(p.presence))]++;
        }
        for (const auto& [c, a] : room.Attachments())
          pending += a.state == AttachmentState::kPending;
      });
    }
    auto family = [](const char* name, const char* help) {
      return prometheus::MetricFamily{name, help, prometheus::MetricType::Gauge, {}};
    };
    auto add = [](prometheus::MetricFamily& f, prometheus::ClientMetric::Label label, double v) {
      prometheus::ClientMetric m;
      if (!label.name.empty()) m.label = {label};
      m.gauge.value = v;
      f.metric.push_back(std::move(m));
    };
    auto rooms = family("reception_media_rooms", "Rooms hosted by this node, by state");
    for (const auto& [state, n] : by_state) add(rooms, {"state", state}, n);
    auto people = family("reception_media_participants",
                         "Participants of open rooms hosted here, by presence");
    for (const auto& [presence, n] : by_presence) add(people, {"presence", presence}, n);
    auto streams =
        family("reception_media_watch_streams", "Open WatchRoom streams served by this node");
    add(streams, {}, static_cast<double>(watchers_->size()));
    auto attach = family("reception_media_attachments_pending",
                         "Locked minutes not yet attached to a case they concern");
    add(attach, {}, pending);
    std::vector<prometheus::MetricFamily> out = {rooms, people, streams, attach};
    if (bridges_ != nullptr) {
      auto links = family(
          "reception_media_bridge_links",
          "Rooms hosted elsewhere that this bridge point takes part in, by host and link state");
      for (const auto& [key, n] : bridges_->LinkCounts()) {
        prometheus::ClientMetric m;
        m.label = {{"host_unit", key.first},
                   {"state", key.second == v1::LINK_STATE_CONNECTED     ? "connected"
                             : key.second == v1::LINK_STATE_UNREACHABLE ? "unreachable"
                                                                        : "ended"}};
        m.gauge.value = n;
        links.metric.push_back(std::move(m));
      }
      out.push_back(std::move(links));
    }
    return out;
  }

 private:
  const RoomRegistry* rooms_;
  const RoomWatchers* watchers_;
  const BridgeLinks* bridges_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<ServiceModule>> MediaModule::Create(const NodeContext& context) {
  std::unique_ptr<MediaModule> m(new MediaModule());
  const auto& config = context.config;
  m->clock_ = context.clock;
  std::vector<std::string> families = RoomRegistry::ColumnFamilies();
  for (const auto& cf : BridgeLinks::ColumnFamilies()) families.push_back(cf);
  families.push_back("outbox");
  Store::Options options = context.StoreOptions("media", std::move(families));
  auto store = Store::Open(options);
  if (!store.ok()) return store.status();
  m->store_ = *std::move(store);
  auto rooms = RoomRegistry::Open(m->store_.get());
  if (!rooms.ok()) return rooms.status();
  m->rooms_ = *std::move(rooms);
  m->watchers_ = std::make_unique<RoomWatchers>();
  RoomWatchers* watchers = m->watchers_.get();
  MediaModule* module = m.get();
  m->rooms_->SetListener([watchers, module](const std::string& room) {
    watchers->Notify(room);
    if (module->minutes_) module->minutes_->Kick();  // minutes that just locked go at once
  });
  m->unit_code_ = config.unit_code();
  m->rooms_->SetAfterApply(
      [module](const internal::RoomOp&, const Room& room, bool locked_now, WriteTxn& txn) {
        if (locked_now) module->QueueAttachments(room, txn);
      });
  Outbox::Options mo;
  mo.store = m->store_.get();
  mo.clock = context.clock;
  mo.name = "minutes";
  mo.window = 4;
  if (config.federation().retry_initial_millis() > 0)
    mo.initial_backoff = absl::Milliseconds(config.federation().retry_initial_millis());
  if (config.federation().retry_max_millis() > 0)
    mo.max_backoff = absl::Milliseconds(config.federation().retry_max_millis());
  auto minutes = Outbox::Open(
      mo,
      [module](const Outbox::Item& item, absl::AnyInvocable<void(Outbox::Answer)> answer) {
        module->SendMinutes(item, std::move(answer));
      },
      [module](const Outbox::Item& item, const Outbox::Answer& answer, WriteTxn& txn) {
        return module->SettleMinutes(item, answer, txn);
      });
  if (!minutes.ok()) return minutes.status();
  m->minutes_ = *std::move(minutes);
  // Minutes locked before their attachments were queued this way (older
  // versions), or whose queue entry is missing: queued again (an attachment
  // is idempotent by room at the case service).
  {
    std::vector<std::string> locked;
    for (const auto& id : m->rooms_->RoomIds()) {
      (void)m->rooms_->With(id, [&](const Room& r) {
        for (const auto& [c, a] : r.Attachments()) {
          if (a.state == AttachmentState::kPending) {
            locked.push_back(id);
            break;
          }
        }
      });
    }
    if (!locked.empty()) {
      auto queued = m->store_->CommitAndWait([&](WriteTxn& txn) -> absl::Status {
        for (const auto& id : locked) {
          auto room = m->rooms_->Get(id);
          if (room.ok()) module->QueueAttachments(*room, txn);
        }
        return absl::OkStatus();
      });
      if (!queued.ok()) return queued;
    }
  }
  // No bridge's stream survived the restart: bridge sites present in open
  // rooms are disconnected until their nodes rejoin (queued before any call).
  if (config.federation().peers_size() > 0) {
    BridgeLinks::Options bo;
    bo.unit_code = config.unit_code();
    bo.credentials = context.credentials;
    for (const auto& peer : config.federation().peers())
      bo.peers[peer.unit_code()] = peer.address();
    if (config.federation().retry_initial_millis() > 0)
      bo.retry_initial = absl::Milliseconds(config.federation().retry_initial_millis());
    if (config.federation().retry_max_millis() > 0)
      bo.retry_max = absl::Milliseconds(config.federation().retry_max_millis());
    bo.store = m->store_.get();
    bo.watchers = watchers;
    bo.clock = context.clock;
    bo.liveness = absl::Seconds(config.media().heartbeat_timeout_seconds());
    auto bridges = BridgeLinks::Open(std::move(bo));
    if (!bridges.ok()) return bridges.status();
    m->bridges_ = *std::move(bridges);
  }
  m->unit_code_ = config.unit_code();
  // Locked minutes go to the case service: this process's own (receptiond)
  // or the one at case_service_address (reception-media).
  if (!config.case_service_address().empty()) {
    const std::string address = config.case_service_address();
    m->case_channel_ = [address, unit = config.unit_code(), credentials = context.credentials] {
      return credentials->NewChannelTo(address, unit);
    };
  } else {
    m->case_channel_ = context.local_channel;
    m->in_process_secret_ = context.in_process_secret;
  }
  auto signer =
      JoinTokenSigner::Open((std::filesystem::path(config.data_dir()) / "media.sign").string());
  if (!signer.ok()) return signer.status();
  m->signer_ = *std::move(signer);
  m->backend_ = config.media().backend() == "janus" ? NewJanusBackend(config.media().janus_url())
                                                    : NewNoneBackend();
  m->pool_ = std::make_unique<WorkPool>(2, "media-backend");
  MediaGrpcService::Deps deps;
  deps.rooms = m->rooms_.get();
  deps.signer = m->signer_.get();
  deps.backend = m->backend_.get();
  deps.auth = context.authenticator;
  deps.clock = context.clock;
  deps.pool = m->pool_.get();
  deps.unit_code = config.unit_code();
  deps.watchers = watchers;
  deps.bridges = m->bridges_.get();
  deps.topology = &context.topology;
  deps.relay_deadline = std::clamp(absl::Seconds(config.media().heartbeat_timeout_seconds()) / 2,
                                   absl::Seconds(1), absl::Seconds(5));
  m->service_ = std::make_unique<MediaGrpcService>(std::move(deps));
  m->service_->room_service().DisconnectBridgeSites(context.clock->Now());
  m->gauges_ = std::make_shared<MediaGauges>(m->rooms_.get(), watchers, m->bridges_.get());
  const absl::Duration timeout = absl::Seconds(config.media().heartbeat_timeout_seconds());
  MediaModule* self = m.get();
  m->expire_ = std::thread([self, timeout] { self->ExpireLoop(timeout); });
  m->minutes_->Start();
  Log()->info("event=media_service_ready backend={} rooms={}", m->backend_->name(),
              m->rooms_->RoomIds().size());
  return std::unique_ptr<ServiceModule>(std::move(m));
}

void MediaModule::ExpireLoop(absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  auto wake = [this]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return stop_; };
  while (!stop_) {
    mu_.AwaitWithTimeout(absl::Condition(&wake), absl::Seconds(1));
    if (stop_) break;
    mu_.Unlock();
    const absl::Time now = clock_->Now();
    for (const auto& id : rooms_->RoomIds()) {
      std::vector<std::string> silent;
      (void)rooms_->With(id, [&](const Room& room) {
        if (room.state() == RoomState::kOpen) silent = room.Silent(now, timeout);
      });
      for (const auto& who : silent) {
        if (watchers_->HasStream(id, who))
          continue;  // a bridge site is present while its stream is open
        internal::RoomOp op;
        op.set_room(id);
        op.set_time_unix_micros(absl::ToUnixMicros(now));
        op.set_participant(who);
        op.set_disconnect(true);
        rooms_->Apply(op, [](absl::StatusOr<std::string>) {});
      }
    }
    mu_.Lock();
  }
}

void MediaModule::QueueAttachments(const Room& room, WriteTxn& txn) {
  for (const auto& [case_name, a] : room.Attachments()) {
    if (a.state != AttachmentState::kPending) continue;
    federation::v1::AttachCaseMinutesRequest r;
    r.set_name(case_name);
    r.set_room(room.name());  // "rooms/{id}", the registry's key too
    r.set_text(room.minutes().locked_text);
    r.mutable_lock_time()->set_seconds(absl::ToUnixSeconds(room.minutes().locked_at));
    minutes_->Put(txn, unit_code_, absl::StrCat("m/", room.name(), "/", case_name),
                  r.SerializeAsString());
  }
}

void MediaModule::SendMinutes(const Outbox::Item& item,
                              absl::AnyInvocable<void(Outbox::Answer)> answer) {
  std::shared_ptr<federation::v1::CaseFederationService::Stub> cases;
  {
    absl::MutexLock lock(&cases_mu_);
    if (!cases_) {
      auto channel = case_channel_ ? case_channel_() : nullptr;
      if (channel) cases_ = federation::v1::CaseFederationService::NewStub(channel);
    }
    cases = cases_;
  }
  if (!cases) return answer({Outbox::Verdict::kRetry, "the case service is not reachable yet", ""});
  struct Call {
    grpc::ClientContext ctx;
    federation::v1::AttachCaseMinutesRequest req;
    cases::v1::Case out;
    absl::AnyInvocable<void(Outbox::Answer)> answer;
  };
  auto call = std::make_shared<Call>();
  if (!call->req.ParseFromString(item.payload)) {
    return answer({Outbox::Verdict::kRefused, "the queued minutes do not parse", ""});
  }
  call->answer = std::move(answer);
  AddNodeIdentity(unit_code_, in_process_secret_, &call->ctx, absl::Seconds(5));
  cases->async()->AttachCaseMinutes(
      &call->ctx, &call->req, &call->out, [call, cases](grpc::Status s) {
        // e.g. the case is owned by another unit: refused for good.
        const Outbox::Verdict verdict = DeliveryVerdict(s);
        if (verdict == Outbox::Verdict::kRetry) {
          Log()->warn("event=minutes_attach_retry room={} case={} error={}", call->req.room(),
                      call->req.name(), LogValue(s.error_message()));
        }
        call->answer({verdict, s.ok() ? "" : s.error_message().substr(0, 300), ""});
      });
}

absl::Status MediaModule::SettleMinutes(const Outbox::Item& item, const Outbox::Answer& answer,
                                        WriteTxn& txn) {
  federation::v1::AttachCaseMinutesRequest r;
  if (!r.ParseFromString(item.payload)) return absl::OkStatus();
  // Refused, or given up by an operator: recorded as failed on the room.
  const bool attached = answer.verdict == Outbox::Verdict::kDelivered;
  internal::RoomOp op;
  op.set_room(r.room());
  op.set_time_unix_micros(absl::ToUnixMicros(clock_->Now()));
  op.mutable_attachment()->set_case_(r.name());
  op.mutable_attachment()->set_attached(attached);
  if (!attached) op.set_detail(answer.detail.substr(0, 300));
  // Already recorded (a repeat of the same answer): nothing more to write.
  if (!rooms_->ApplyInTxn(op, txn).ok()) return absl::OkStatus();
  Log()->info("event=minutes_attach room={} case={} attached={}", r.room(), r.name(), attached);
  return absl::OkStatus();
}

MediaModule::~MediaModule() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (expire_.joinable()) expire_.join();
  if (minutes_) {
    // No new attachments; the answers in flight are recorded while the
    // store is still there.
    minutes_->Stop();
    minutes_->Drain();
  }
  bridges_.reset();  // stops the links (their threads notify watchers)
  pool_.reset();     // finishes media-server calls (their callbacks use the registry)
  store_.reset();    // completes queued operations
}

}  // namespace reception::media
