#include "services/media/media_service.h"

#include <filesystem>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/strip.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "services/common/grpc_status.h"
#include "services/common/logging.h"
#include "services/common/status.h"

namespace reception::media {
namespace {

absl::Status ValidRoomName(absl::string_view name) {
  absl::string_view id = name;
  if (!absl::ConsumePrefix(&id, "rooms/") || id.empty() || id.size() > 40) {
    return InvalidField("name", "must be rooms/{room_id}");
  }
  return absl::OkStatus();
}

v1::Presence PresenceToProto(Presence p) {
  switch (p) {
    case Presence::kLobby: return v1::PRESENCE_LOBBY;
    case Presence::kInRoom: return v1::PRESENCE_IN_ROOM;
    case Presence::kDisconnected: return v1::PRESENCE_DISCONNECTED;
    case Presence::kRemoved: return v1::PRESENCE_REMOVED;
    case Presence::kLeft: return v1::PRESENCE_LEFT;
  }
  return v1::PRESENCE_UNSPECIFIED;
}

// Answers at once with `s`.
grpc::ServerUnaryReactor* Finish(grpc::CallbackServerContext* ctx, const absl::Status& s) {
  auto* reactor = ctx->DefaultReactor();
  reactor->Finish(ToGrpcStatus(s));
  return reactor;
}

}  // namespace

// The room as the API shows it, built under the registry's lock.
absl::StatusOr<v1::Room> View(const RoomRegistry& rooms, const std::string& name, const std::string& host) {
  v1::Room out;
  auto s = rooms.With(name, [&](const Room& room) { out = ToProto(room); });
  if (!s.ok()) return s;
  out.set_host_unit(host);
  return out;
}

v1::Room ToProto(const Room& room) {
  v1::Room out;
  out.set_name(room.name());
  switch (room.state()) {
    case RoomState::kScheduled: out.set_state(v1::ROOM_STATE_SCHEDULED); break;
    case RoomState::kOpen: out.set_state(v1::ROOM_STATE_OPEN); break;
    case RoomState::kClosed: out.set_state(v1::ROOM_STATE_CLOSED); break;
  }
  for (const auto& [id, p] : room.participants()) {
    auto* q = out.add_participants();
    q->set_id(id);
    q->set_role(std::string(RoleName(p.role)));
    q->set_unit(p.unit);
    q->set_presence(PresenceToProto(p.presence));
    q->set_muted(p.muted);
    q->set_hand_raised(p.hand_raised);
    q->set_recording_consent(p.recording_consent);
  }
  if (room.floor()) out.set_floor_holder(*room.floor());
  for (const auto& id : room.HandQueue()) out.add_hand_queue(id);
  out.set_recording(room.recording());
  const Minutes& m = room.minutes();
  auto* mp = out.mutable_minutes();
  mp->set_place(m.draft.place);
  for (const auto& c : m.draft.cases) mp->add_cases(c);
  for (const auto& st : m.draft.statements) {
    auto* s = mp->add_statements();
    s->set_participant(st.participant);
    s->set_summary(st.summary);
  }
  mp->set_conclusions(m.draft.conclusions);
  for (const auto& [id, t] : m.signatures) mp->add_signed_by(id);
  for (const auto& id : room.MissingSignatures()) mp->add_awaiting_signature(id);
  mp->set_locked(m.locked);
  if (!m.draft.conclusions.empty()) mp->set_text(room.RenderMinutes());
  out.set_last_event_sequence(room.last_sequence());
  return out;
}

MediaRoom MediaGrpcService::MediaRoomFor(const std::string& room) const {
  MediaRoom m;
  const std::string number = d_.signer->Derive(absl::StrCat("media-room:", room));
  for (int i = 0; i < 6; ++i) m.number = (m.number << 8) | static_cast<unsigned char>(number[i]);
  m.description = room;
  m.secret = absl::BytesToHexString(d_.signer->Derive(absl::StrCat("media-secret:", room)).substr(0, 16));
  const std::string pin = d_.signer->Derive(absl::StrCat("media-pin:", room));
  for (int i = 0; i < 6; ++i) m.pin.push_back(static_cast<char>('0' + static_cast<unsigned char>(pin[i]) % 10));
  return m;
}

grpc::ServerUnaryReactor* MediaGrpcService::CreateRoom(Ctx* ctx, const v1::CreateRoomRequest* req, v1::Room* resp) {
  auto p = d_.auth->Authenticate(*ctx);
  if (!p.ok()) return Finish(ctx, p.status());
  if (p->role != reception::Role::kReceptionOfficer && p->role != reception::Role::kHead && p->role != reception::Role::kInspector) {
    return Finish(ctx, absl::PermissionDeniedError("CreateRoom needs an officer, inspector or head"));
  }
  const std::string& id = req->room_id();
  if (id.empty() || id.size() > 40 ||
      !std::all_of(id.begin(), id.end(), [](char c) { return absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '-'; })) {
    return Finish(ctx, InvalidField("room_id", "must be 1-40 characters of a-z, 0-9 and -"));
  }
  internal::RoomOp op;
  op.set_room(absl::StrCat("rooms/", id));
  op.set_time_unix_micros(absl::ToUnixMicros(d_.clock->Now()));
  op.set_create_host_unit(d_.unit_code);
  auto* reactor = ctx->DefaultReactor();
  d_.rooms->Apply(op, [this, reactor, resp, name = op.room()](absl::StatusOr<std::string> r) {
    if (!r.ok()) return reactor->Finish(ToGrpcStatus(r.status()));
    auto view = View(*d_.rooms, name, d_.unit_code);
    if (view.ok()) *resp = *std::move(view);
    reactor->Finish(ToGrpcStatus(view.status()));
  });
  return reactor;
}

grpc::ServerUnaryReactor* MediaGrpcService::GetRoom(Ctx* ctx, const v1::GetRoomRequest* req, v1::Room* resp) {
  auto p = d_.auth->Authenticate(*ctx);
  if (!p.ok()) return Finish(ctx, p.status());
  if (auto s = ValidRoomName(req->name()); !s.ok()) return Finish(ctx, s);
  auto view = View(*d_.rooms, req->name(), d_.unit_code);
  if (view.ok()) *resp = *std::move(view);
  return Finish(ctx, view.status());
}

grpc::ServerUnaryReactor* MediaGrpcService::ListRoomEvents(Ctx* ctx, const v1::ListRoomEventsRequest* req,
                                                           v1::ListRoomEventsResponse* resp) {
  auto p = d_.auth->Authenticate(*ctx);
  if (!p.ok()) return Finish(ctx, p.status());
  if (auto s = ValidRoomName(req->name()); !s.ok()) return Finish(ctx, s);
  if (req->page_size() < 0 || req->page_size() > 1000) {
    return Finish(ctx, InvalidField("page_size", "must be between 1 and 1000 (0: 100)"));
  }
  const int page = req->page_size() == 0 ? 100 : req->page_size();
  absl::StatusOr<std::vector<RoomEvent>> events;
  int64_t last = 0;
  auto found = d_.rooms->With(req->name(), [&](const Room& room) {
    events = room.EventsAfter(req->after_sequence());
    last = room.last_sequence();
  });
  if (!found.ok()) return Finish(ctx, found);
  if (!events.ok()) return Finish(ctx, events.status());
  for (const auto& e : *events) {
    if (resp->events_size() == page) break;
    auto* q = resp->add_events();
    q->set_sequence(e.sequence);
    q->mutable_time()->set_seconds(absl::ToUnixSeconds(e.time));
    q->set_kind(e.kind);
    q->set_participant(e.participant);
    q->set_detail(e.detail);
  }
  resp->set_last_sequence(last);
  return Finish(ctx, absl::OkStatus());
}

grpc::ServerUnaryReactor* MediaGrpcService::IssueJoinToken(Ctx* ctx, const v1::IssueJoinTokenRequest* req,
                                                           v1::JoinToken* resp) {
  auto p = d_.auth->Authenticate(*ctx);
  if (!p.ok()) return Finish(ctx, p.status());
  if (p->role != reception::Role::kReceptionOfficer && p->role != reception::Role::kHead && p->role != reception::Role::kInspector) {
    return Finish(ctx, absl::PermissionDeniedError("IssueJoinToken needs an officer, inspector or head"));
  }
  if (p->unit_code != d_.unit_code) {
    return Finish(ctx, absl::PermissionDeniedError(absl::StrCat(
        "join tokens for rooms hosted by unit ", d_.unit_code, " are issued by that unit's staff")));
  }
  if (auto s = ValidRoomName(req->name()); !s.ok()) return Finish(ctx, s);
  if (auto role = ParseRole(req->role()); !role.ok()) return Finish(ctx, InvalidField("role", role.status().message()));
  if (req->unit().empty()) return Finish(ctx, InvalidField("unit", "must be set"));
  if (req->subject().empty() || req->subject().size() > 128) return Finish(ctx, InvalidField("subject", "must be 1-128 characters"));
  if (req->ttl_seconds() < 0 || req->ttl_seconds() > 86400) return Finish(ctx, InvalidField("ttl_seconds", "must be at most 86400"));
  if (auto s = d_.rooms->With(req->name(), [](const Room&) {}); !s.ok()) return Finish(ctx, s);
  const absl::Time expire = d_.clock->Now() + absl::Seconds(req->ttl_seconds() == 0 ? 900 : req->ttl_seconds());
  auto token = d_.signer->Issue({req->name(), req->role(), req->unit(), req->subject(), expire});
  if (!token.ok()) return Finish(ctx, token.status());
  resp->set_token(*token);
  resp->mutable_expire_time()->set_seconds(absl::ToUnixSeconds(expire));
  return Finish(ctx, absl::OkStatus());
}

grpc::ServerUnaryReactor* MediaGrpcService::JoinRoom(Ctx* ctx, const v1::JoinRoomRequest* req,
                                                     v1::JoinRoomResponse* resp) {
  auto p = d_.auth->Authenticate(*ctx);
  if (!p.ok()) return Finish(ctx, p.status());
  if (auto s = ValidRoomName(req->name()); !s.ok()) return Finish(ctx, s);
  auto claims = d_.signer->Verify(req->join_token(), req->name(), d_.clock->Now());
  if (!claims.ok()) return Finish(ctx, claims.status());
  if (claims->subject != p->subject) {
    return Finish(ctx, absl::PermissionDeniedError("join_token was issued to another subject"));
  }
  internal::RoomOp op;
  op.set_room(req->name());
  op.set_time_unix_micros(absl::ToUnixMicros(d_.clock->Now()));
  op.mutable_join()->set_subject(claims->subject);
  op.mutable_join()->set_role(claims->role);
  op.mutable_join()->set_unit(claims->unit);
  auto* reactor = ctx->DefaultReactor();
  const std::string media_token =
      absl::BytesToHexString(d_.signer->Derive(absl::StrCat("media-token:", req->name(), ":", claims->subject)).substr(0, 16));
  d_.rooms->Apply(op, [this, reactor, resp, name = req->name(), media_token](absl::StatusOr<std::string> r) {
    if (!r.ok()) return reactor->Finish(ToGrpcStatus(r.status()));
    resp->set_participant(*r);
    auto view = View(*d_.rooms, name, d_.unit_code);
    if (!view.ok()) return reactor->Finish(ToGrpcStatus(view.status()));
    *resp->mutable_room() = *std::move(view);
    // Let the participant's media token into the media room (HTTP: on the pool).
    d_.pool->Post([this, reactor, resp, name, media_token] {
      const MediaRoom room = MediaRoomFor(name);
      if (auto s = d_.backend->AllowToken(room, media_token); !s.ok()) {
        Log()->warn("event=media_allow_failed room={} error=\"{}\"", name, s.message());
        return reactor->Finish(ToGrpcStatus(absl::UnavailableError(absl::StrCat(
            "joined, but the media server refused the participant: ", s.message(), "; join again"))));
      }
      const MediaAccess a = d_.backend->AccessFor(room, media_token);
      auto* m = resp->mutable_media();
      m->set_backend(a.backend);
      m->set_url(a.url);
      m->set_media_room(a.room);
      m->set_pin(a.pin);
      m->set_media_token(a.token);
      reactor->Finish(grpc::Status::OK);
    });
  });
  return reactor;
}

grpc::ServerUnaryReactor* MediaGrpcService::Act(Ctx* ctx, const std::string& name, const std::string& participant,
                                                v1::Room* resp, const std::function<void(internal::RoomOp&)>& fill,
                                                std::function<void()> after) {
  auto p = d_.auth->Authenticate(*ctx);
  if (!p.ok()) return Finish(ctx, p.status());
  if (auto s = ValidRoomName(name); !s.ok()) return Finish(ctx, s);
  absl::Status who = absl::OkStatus();
  auto found = d_.rooms->With(name, [&](const Room& room) {
    auto it = room.participants().find(participant);
    if (it == room.participants().end()) {
      who = InvalidField("participant", absl::StrCat("is not a participant of ", name));
    } else if (it->second.subject != p->subject) {
      who = absl::PermissionDeniedError(absl::StrCat("participant ", participant, " is someone else"));
    }
  });
  if (!found.ok()) return Finish(ctx, found);
  if (!who.ok()) return Finish(ctx, who);
  internal::RoomOp op;
  op.set_room(name);
  op.set_time_unix_micros(absl::ToUnixMicros(d_.clock->Now()));
  op.set_participant(participant);
  fill(op);
  auto* reactor = ctx->DefaultReactor();
  d_.rooms->Apply(op, [this, reactor, resp, name, after = std::move(after)](absl::StatusOr<std::string> r) {
    if (!r.ok()) return reactor->Finish(ToGrpcStatus(r.status()));
    auto view = View(*d_.rooms, name, d_.unit_code);
    if (view.ok()) *resp = *std::move(view);
    if (after) after();
    reactor->Finish(ToGrpcStatus(view.status()));
  });
  return reactor;
}

// A moderator acting on `target`: the actor is the caller.
#define RECEPTION_MODERATE(Method, Field, Value)                                                         \
  grpc::ServerUnaryReactor* MediaGrpcService::Method(Ctx* ctx, const v1::Method##Request* req,           \
                                                     v1::Room* resp) {                                    \
    return Act(ctx, req->name(), req->participant(), resp, [req](internal::RoomOp& op) {                 \
      op.set_actor(req->participant());                                                                   \
      op.set_participant(req->target());                                                                  \
      op.set_##Field(Value);                                                                              \
    });                                                                                                   \
  }
#define RECEPTION_SELF(Method, Field, Value)                                                             \
  grpc::ServerUnaryReactor* MediaGrpcService::Method(Ctx* ctx, const v1::Method##Request* req,           \
                                                     v1::Room* resp) {                                    \
    return Act(ctx, req->name(), req->participant(), resp,                                                \
               [req](internal::RoomOp& op) { op.set_##Field(Value); });                                  \
  }
#define RECEPTION_MODERATOR_SELF(Method, Field)                                                          \
  grpc::ServerUnaryReactor* MediaGrpcService::Method(Ctx* ctx, const v1::Method##Request* req,           \
                                                     v1::Room* resp) {                                    \
    return Act(ctx, req->name(), req->participant(), resp, [req](internal::RoomOp& op) {                 \
      op.set_actor(req->participant());                                                                   \
      op.set_##Field(true);                                                                               \
    });                                                                                                   \
  }

RECEPTION_MODERATE(AdmitParticipant, admit, true)
RECEPTION_MODERATE(SendToLobby, send_to_lobby, true)
RECEPTION_MODERATE(GrantFloor, grant_floor, true)
RECEPTION_MODERATE(MuteParticipant, mute, req->muted())
RECEPTION_SELF(LeaveRoom, leave, true)
RECEPTION_SELF(Heartbeat, heartbeat, true)
RECEPTION_SELF(RaiseHand, raise_hand, req->raised())
RECEPTION_SELF(ReleaseFloor, release_floor, true)
RECEPTION_SELF(SetRecordingConsent, consent, req->consent())
RECEPTION_SELF(SignMinutes, sign_minutes, true)
RECEPTION_MODERATOR_SELF(RevokeFloor, revoke_floor)
RECEPTION_MODERATOR_SELF(StartRecording, start_recording)
RECEPTION_MODERATOR_SELF(StopRecording, stop_recording)
#undef RECEPTION_MODERATE
#undef RECEPTION_SELF
#undef RECEPTION_MODERATOR_SELF

grpc::ServerUnaryReactor* MediaGrpcService::RemoveParticipant(Ctx* ctx, const v1::RemoveParticipantRequest* req,
                                                              v1::Room* resp) {
  // The media server forgets the participant's token too (no rejoin).
  return Act(ctx, req->name(), req->participant(), resp, [req](internal::RoomOp& op) {
    op.set_actor(req->participant());
    op.set_participant(req->target());
    op.set_remove(true);
  });
}

grpc::ServerUnaryReactor* MediaGrpcService::UpdateMinutes(Ctx* ctx, const v1::UpdateMinutesRequest* req,
                                                          v1::Room* resp) {
  return Act(ctx, req->name(), req->participant(), resp, [req](internal::RoomOp& op) {
    op.set_actor(req->participant());
    op.clear_participant();
    auto* m = op.mutable_update_minutes();
    m->set_place(req->minutes().place());
    for (const auto& c : req->minutes().cases()) m->add_cases(c);
    for (const auto& st : req->minutes().statements()) {
      auto* s = m->add_statements();
      s->set_participant(st.participant());
      s->set_summary(st.summary());
    }
    m->set_conclusions(req->minutes().conclusions());
  });
}

grpc::ServerUnaryReactor* MediaGrpcService::OpenRoom(Ctx* ctx, const v1::OpenRoomRequest* req, v1::Room* resp) {
  return OpenOrClose(ctx, req->name(), resp, true);
}

grpc::ServerUnaryReactor* MediaGrpcService::CloseRoom(Ctx* ctx, const v1::CloseRoomRequest* req, v1::Room* resp) {
  return OpenOrClose(ctx, req->name(), resp, false);
}

grpc::ServerUnaryReactor* MediaGrpcService::OpenOrClose(Ctx* ctx, const std::string& name, v1::Room* resp,
                                                        bool open) {
  auto p = d_.auth->Authenticate(*ctx);
  if (!p.ok()) return Finish(ctx, p.status());
  if (p->role != reception::Role::kReceptionOfficer && p->role != reception::Role::kHead && p->role != reception::Role::kInspector) {
    return Finish(ctx, absl::PermissionDeniedError("opening and closing rooms needs an officer, inspector or head"));
  }
  if (auto s = ValidRoomName(name); !s.ok()) return Finish(ctx, s);
  if (auto s = d_.rooms->With(name, [](const Room&) {}); !s.ok()) return Finish(ctx, s);
  auto* reactor = ctx->DefaultReactor();
  // Media server first when opening (no open room without its media room),
  // last when closing; both over HTTP, so on the pool.
  d_.pool->Post([this, reactor, resp, name, open] {
    const MediaRoom media = MediaRoomFor(name);
    if (open) {
      if (auto s = d_.backend->OpenRoom(media); !s.ok()) return reactor->Finish(ToGrpcStatus(s));
    }
    internal::RoomOp op;
    op.set_room(name);
    op.set_time_unix_micros(absl::ToUnixMicros(d_.clock->Now()));
    if (open) op.set_open(true); else op.set_close(true);
    d_.rooms->Apply(op, [this, reactor, resp, name, open, media](absl::StatusOr<std::string> r) {
      if (!r.ok()) return reactor->Finish(ToGrpcStatus(r.status()));
      auto view = View(*d_.rooms, name, d_.unit_code);
      if (view.ok()) *resp = *std::move(view);
      if (open || !view.ok()) return reactor->Finish(ToGrpcStatus(view.status()));
      d_.pool->Post([this, reactor, name, media] {
        if (auto s = d_.backend->CloseRoom(media); !s.ok()) {
          Log()->warn("event=media_close_failed room={} error=\"{}\"", name, s.message());
        }
        reactor->Finish(grpc::Status::OK);
      });
    });
  });
  return reactor;
}

absl::StatusOr<std::unique_ptr<ServiceModule>> MediaModule::Create(const NodeContext& context) {
  std::unique_ptr<MediaModule> m(new MediaModule());
  const auto& config = context.config;
  m->clock_ = context.clock;
  Store::Options options;
  options.path = (std::filesystem::path(config.data_dir()) / "media").string();
  options.column_families = RoomRegistry::ColumnFamilies();
  options.sync = config.storage().sync_policy() != config::v1::SYNC_POLICY_NONE;
  options.metrics = context.metrics.get();
  options.name = "media";
  auto store = Store::Open(options);
  if (!store.ok()) return store.status();
  m->store_ = *std::move(store);
  auto rooms = RoomRegistry::Open(m->store_.get());
  if (!rooms.ok()) return rooms.status();
  m->rooms_ = *std::move(rooms);
  auto signer = JoinTokenSigner::Open((std::filesystem::path(config.data_dir()) / "media.sign").string());
  if (!signer.ok()) return signer.status();
  m->signer_ = *std::move(signer);
  m->backend_ = config.media().backend() == "janus" ? NewJanusBackend(config.media().janus_url()) : NewNoneBackend();
  m->pool_ = std::make_unique<WorkPool>(2, "media-backend");
  MediaGrpcService::Deps deps;
  deps.rooms = m->rooms_.get();
  deps.signer = m->signer_.get();
  deps.backend = m->backend_.get();
  deps.auth = context.authenticator;
  deps.clock = context.clock;
  deps.pool = m->pool_.get();
  deps.unit_code = config.unit_code();
  m->service_ = std::make_unique<MediaGrpcService>(std::move(deps));
  const absl::Duration timeout = absl::Seconds(config.media().heartbeat_timeout_seconds());
  MediaModule* self = m.get();
  m->expire_ = std::thread([self, timeout] { self->ExpireLoop(timeout); });
  Log()->info("event=media_service_ready backend={} rooms={}", m->backend_->name(), m->rooms_->RoomIds().size());
  return std::unique_ptr<ServiceModule>(std::move(m));
}

void MediaModule::ExpireLoop(absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  while (!stop_) {
    mu_.AwaitWithTimeout(absl::Condition(&stop_), absl::Seconds(1));
    if (stop_) break;
    mu_.Unlock();
    const absl::Time now = clock_->Now();
    for (const auto& id : rooms_->RoomIds()) {
      std::vector<std::string> silent;
      (void)rooms_->With(id, [&](const Room& room) {
        if (room.state() == RoomState::kOpen) silent = room.Silent(now, timeout);
      });
      for (const auto& who : silent) {
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

MediaModule::~MediaModule() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (expire_.joinable()) expire_.join();
  pool_.reset();   // finishes media-server calls (their callbacks use the registry)
  store_.reset();  // completes queued operations
}

}  // namespace reception::media
