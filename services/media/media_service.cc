#include "services/media/media_service.h"

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

// Staff of this node's unit (officer, inspector, head), or this node's own
// services (the scheduling service's online sessions). Staff of another unit
// may not create, open or close this unit's rooms.
bool StaffOrOwnNode(const Principal& p, const std::string& unit_code) {
  const bool staff = p.role == reception::Role::kReceptionOfficer ||
                     p.role == reception::Role::kHead || p.role == reception::Role::kInspector;
  return (staff || p.role == reception::Role::kNode) && p.unit_code == unit_code;
}

// Answers at once with `s`.
grpc::ServerUnaryReactor* Finish(grpc::CallbackServerContext* ctx, const absl::Status& s) {
  auto* reactor = ctx->DefaultReactor();
  reactor->Finish(ToGrpcStatus(s));
  return reactor;
}

}  // namespace

// The room as the API shows it, built under the registry's lock.
absl::StatusOr<v1::Room> View(const RoomRegistry& rooms, const std::string& name, const std::string&) {
  v1::Room out;
  auto s = rooms.With(name, [&](const Room& room) { out = ToProto(room); });
  if (!s.ok()) return s;
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
  out.set_host_unit(room.setup().host_unit);
  out.set_session(room.setup().session);
  for (const auto& c : room.setup().agenda_cases) out.add_agenda_cases(c);
  for (const auto& b : room.setup().bridges) {
    auto* q = out.add_bridges();
    q->set_unit(b.unit);
    q->set_sip_uri(b.sip_uri);
    for (const auto& [id, p] : room.participants()) {
      if (p.role == Role::kSite && p.unit == b.unit) q->set_presence(PresenceToProto(p.presence));
    }
  }
  for (const auto& [c, a] : room.Attachments()) {
    auto* q = out.add_minutes_attachments();
    q->set_case_(c);
    q->set_state(a.state == AttachmentState::kAttached ? v1::ATTACHMENT_STATE_ATTACHED
                 : a.state == AttachmentState::kFailed ? v1::ATTACHMENT_STATE_FAILED
                                                       : v1::ATTACHMENT_STATE_PENDING);
    q->set_detail(a.detail);
  }
  return out;
}

v1::RoomEvent ToProto(const RoomEvent& e) {
  v1::RoomEvent q;
  q.set_sequence(e.sequence);
  q.mutable_time()->set_seconds(absl::ToUnixSeconds(e.time));
  q.set_kind(e.kind);
  q.set_participant(e.participant);
  q.set_detail(e.detail);
  return q;
}

MediaGrpcService::MediaGrpcService(Deps deps) : d_(std::move(deps)) {
  if (d_.watchers == nullptr) {
    own_watchers_ = std::make_unique<RoomWatchers>();
    d_.watchers = own_watchers_.get();
    d_.rooms->SetListener([w = d_.watchers](const std::string& room) { w->Notify(room); });
  }
}

uint64_t MediaGrpcService::MediaParticipantId(const std::string& room, const std::string& subject) const {
  // 48 bits: below 2^53, so JavaScript clients keep it exact; never 0.
  const std::string d = d_.signer->Derive(absl::StrCat("media-participant:", room, ":", subject));
  uint64_t id = 0;
  for (int i = 0; i < 6; ++i) id = (id << 8) | static_cast<unsigned char>(d[i]);
  return id == 0 ? 1 : id;
}

absl::StatusOr<EventBatch> MediaGrpcService::Fetch(const std::string& name, int64_t after, int limit) const {
  if (d_.bridges != nullptr && d_.bridges->IsBridged(name)) return d_.bridges->Events(name, after, limit);
  EventBatch out;
  absl::StatusOr<std::vector<RoomEvent>> events;
  bool closed = false;
  const int64_t committed = d_.rooms->CommittedSequence(name);
  auto found = d_.rooms->With(name, [&](const Room& room) {
    events = room.EventsAfter(after);
    closed = room.state() == RoomState::kClosed;
  });
  if (!found.ok()) return found;
  if (!events.ok()) return events.status();
  size_t durable = 0;  // events passed on only once durable
  for (const auto& e : *events) {
    if (e.sequence > committed) break;
    ++durable;
    if (static_cast<int>(out.events.size()) < limit) out.events.push_back(ToProto(e));
  }
  out.ended = closed && durable == events->size() && out.events.size() == durable;
  return out;
}

template <typename Req, typename Resp>
grpc::ServerUnaryReactor* MediaGrpcService::Relay(
    Ctx* ctx, const std::string& name, const Req& req, Resp* resp,
    void (v1::MediaService::Stub::async::*method)(grpc::ClientContext*, const Req*, Resp*,
                                                  std::function<void(grpc::Status)>)) {
  if (d_.bridges == nullptr) return nullptr;
  std::string host;
  v1::MediaService::Stub* stub = d_.bridges->HostStub(name, &host);
  if (stub == nullptr) return nullptr;
  struct Call {
    grpc::ClientContext ctx;
    Req req;
  };
  auto* call = new Call;
  call->req = req;
  ForwardIdentity(*ctx, "", &call->ctx, absl::Seconds(10));
  auto* reactor = ctx->DefaultReactor();
  (stub->async()->*method)(&call->ctx, &call->req, resp, [this, call, reactor, resp, name, host](grpc::Status s) {
    delete call;
    if (s.error_code() == grpc::StatusCode::UNAVAILABLE || s.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
      s = grpc::Status(grpc::StatusCode::UNAVAILABLE,
                       absl::StrCat(name, " is hosted by unit ", host, ", which this bridge cannot reach now (",
                                    s.error_message().substr(0, 200), "); the bridge rejoins when the link returns"));
    } else if (s.ok()) {
      if constexpr (std::is_same_v<Resp, v1::Room>) d_.bridges->Update(name, *resp);
      if constexpr (std::is_same_v<Resp, v1::JoinRoomResponse>) d_.bridges->Update(name, resp->room());
    }
    reactor->Finish(s);
  });
  return reactor;
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
  if (!StaffOrOwnNode(*p, d_.unit_code)) {
    return Finish(ctx, absl::PermissionDeniedError(
                           absl::StrCat("CreateRoom needs an officer, inspector or head of unit ",
                                        d_.unit_code, ", which hosts the room")));
  }
  const std::string& id = req->room_id();
  if (id.empty() || id.size() > 40 ||
      !std::all_of(id.begin(), id.end(), [](char c) { return absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '-'; })) {
    return Finish(ctx, InvalidField("room_id", "must be 1-40 characters of a-z, 0-9 and -"));
  }
  if (d_.bridges != nullptr && d_.bridges->IsBridged(absl::StrCat("rooms/", id))) {
    return Finish(ctx, absl::AlreadyExistsError(absl::StrCat("rooms/", id, " is a room this node bridges to its host; choose another id")));
  }
  if (req->session().size() > 200) return Finish(ctx, InvalidField("session", "must be at most 200 characters"));
  if (req->agenda_cases_size() > 100) return Finish(ctx, InvalidField("agenda_cases", "must list at most 100 cases"));
  if (req->bridges_size() > 500) return Finish(ctx, InvalidField("bridges", "must list at most 500 bridge points"));
  internal::RoomOp op;
  op.set_room(absl::StrCat("rooms/", id));
  op.set_time_unix_micros(absl::ToUnixMicros(d_.clock->Now()));
  auto* create = op.mutable_create();
  create->set_host_unit(d_.unit_code);
  create->set_session(req->session());
  std::set<std::string> seen;
  for (int i = 0; i < req->agenda_cases_size(); ++i) {
    const std::string& c = req->agenda_cases(i);
    absl::string_view number = c;
    if (!absl::ConsumePrefix(&number, "cases/") || number.empty() || number.size() > 40) {
      return Finish(ctx, InvalidField(absl::StrCat("agenda_cases[", i, "]"), "must be cases/{number}"));
    }
    if (seen.insert(c).second) create->add_agenda_cases(c);
  }
  seen.clear();
  for (int i = 0; i < req->bridges_size(); ++i) {
    const auto& b = req->bridges(i);
    const std::string field = absl::StrCat("bridges[", i, "]");
    if (b.unit().empty()) return Finish(ctx, InvalidField(field + ".unit", "must be set"));
    if (b.unit() == d_.unit_code) return Finish(ctx, InvalidField(field + ".unit", "is the host itself"));
    if (d_.topology != nullptr && d_.topology->Find(b.unit()) == nullptr) {
      return Finish(ctx, InvalidField(field + ".unit", absl::StrCat("is not a unit of the topology: ", b.unit().substr(0, 32))));
    }
    if (!seen.insert(b.unit()).second) return Finish(ctx, InvalidField(field + ".unit", "is listed twice"));
    if (!b.sip_uri().empty()) {
      absl::string_view uri = b.sip_uri();
      const bool scheme = absl::ConsumePrefix(&uri, "sip:") || absl::ConsumePrefix(&uri, "sips:");
      const size_t at = uri.find('@');
      if (!scheme || at == 0 || at == absl::string_view::npos || at + 1 == uri.size() || b.sip_uri().size() > 256 ||
          std::any_of(uri.begin(), uri.end(), [](char c) { return c <= ' ' || c == 0x7f; })) {
        return Finish(ctx, InvalidField(field + ".sip_uri", "must be sip:user@host or sips:user@host (RFC 3261), at most 256 characters"));
      }
    }
    auto* q = create->add_bridges();
    q->set_unit(b.unit());
    q->set_sip_uri(b.sip_uri());
  }
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
  if (d_.bridges != nullptr && d_.bridges->IsBridged(req->name())) {
    auto snapshot = d_.bridges->Snapshot(req->name());
    if (snapshot.ok()) *resp = *std::move(snapshot);
    return Finish(ctx, snapshot.status());
  }
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
  auto batch = Fetch(req->name(), req->after_sequence(), page);
  if (!batch.ok()) return Finish(ctx, batch.status());
  for (auto& e : batch->events) *resp->add_events() = std::move(e);
  int64_t last = 0;
  if (d_.bridges != nullptr && d_.bridges->IsBridged(req->name())) {
    last = d_.bridges->Snapshot(req->name())->last_event_sequence();
  } else {
    last = d_.rooms->CommittedSequence(req->name());  // what readers may see
  }
  last = std::max<int64_t>(last, resp->events_size() ? resp->events(resp->events_size() - 1).sequence() : 0);
  resp->set_last_sequence(last);
  return Finish(ctx, absl::OkStatus());
}

grpc::ServerUnaryReactor* MediaGrpcService::IssueJoinToken(Ctx* ctx, const v1::IssueJoinTokenRequest* req,
                                                           v1::JoinToken* resp) {
  auto p = d_.auth->Authenticate(*ctx);
  if (!p.ok()) return Finish(ctx, p.status());
  if (auto s = ValidRoomName(req->name()); !s.ok()) return Finish(ctx, s);
  if (auto* r = Relay(ctx, req->name(), *req, resp, &v1::MediaService::Stub::async::IssueJoinToken)) return r;
  const bool staff = p->role == reception::Role::kReceptionOfficer || p->role == reception::Role::kHead ||
                     p->role == reception::Role::kInspector;
  if (!staff && p->role != reception::Role::kNode) {
    return Finish(ctx, absl::PermissionDeniedError("IssueJoinToken needs an officer, inspector or head"));
  }
  auto role = ParseRole(req->role());
  if (!role.ok()) return Finish(ctx, InvalidField("role", role.status().message()));
  // Subjects and units end up in tokens, rooms and logs: plain, bounded.
  if (req->unit().empty() || req->unit().size() > 32 ||
      !std::all_of(req->unit().begin(), req->unit().end(), [](char c) {
        return absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '.';
      })) {
    return Finish(
        ctx, InvalidField("unit", "must be a unit code: 1-32 letters, digits, '-', '_' or '.'"));
  }
  if (req->subject().empty() || !IsValidUtf8(req->subject()) ||
      HasControlCharacters(req->subject(), false) || CodePointCount(req->subject()) > 128) {
    return Finish(
        ctx, InvalidField("subject",
                          "must be 1-128 characters of UTF-8 text without control characters"));
  }
  if (req->ttl_seconds() < 0 || req->ttl_seconds() > 86400) return Finish(ctx, InvalidField("ttl_seconds", "must be at most 86400"));
  bool bridge = false;
  if (auto s = d_.rooms->With(req->name(), [&](const Room& room) { bridge = room.Bridge(p->unit_code) != nullptr; }); !s.ok()) {
    return Finish(ctx, s);
  }
  // The host's staff issue any token. A bridge point's staff issue tokens
  // for people at their own site (not the presiding official); its node
  // issues the site's own token.
  if (p->unit_code != d_.unit_code) {
    if (!bridge) {
      return Finish(ctx, absl::PermissionDeniedError(absl::StrCat(
          "join tokens for ", req->name(), " are issued by the staff of unit ", d_.unit_code,
          " or of its bridge points; unit ", p->unit_code.substr(0, 32), " is neither")));
    }
    if (req->unit() != p->unit_code) {
      return Finish(ctx, InvalidField("unit", absl::StrCat("must be ", p->unit_code, ": a bridge point issues tokens for its own site")));
    }
    if (*role == Role::kPresiding) {
      return Finish(ctx, absl::PermissionDeniedError("the presiding official's token is issued by the host unit"));
    }
  }
  if (p->role == reception::Role::kNode && (*role != Role::kSite || req->subject() != p->subject)) {
    return Finish(ctx, absl::PermissionDeniedError("a node issues only its own site's token"));
  }
  if (*role == Role::kSite && p->unit_code != d_.unit_code && req->subject() != absl::StrCat("node:", p->unit_code)) {
    return Finish(ctx, InvalidField("subject", absl::StrCat("a bridge site joins as its node, node:", p->unit_code)));
  }
  const absl::Time expire = d_.clock->Now() + absl::Seconds(req->ttl_seconds() == 0 ? 900 : req->ttl_seconds());
  auto token = d_.signer->Issue({req->name(), req->role(), req->unit(), req->subject(), expire});
  Log()->info("event=join_token_issued room={} role={} unit={} by_unit={}", LogValue(req->name()),
              req->role(), LogValue(req->unit()), p->unit_code);
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
  if (auto* r = Relay(ctx, req->name(), *req, resp, &v1::MediaService::Stub::async::JoinRoom)) return r;
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
  const uint64_t media_id = MediaParticipantId(req->name(), claims->subject);
  d_.rooms->Apply(op, [this, reactor, resp, name = req->name(), media_token, media_id](absl::StatusOr<std::string> r) {
    if (!r.ok()) return reactor->Finish(ToGrpcStatus(r.status()));
    resp->set_participant(*r);
    auto view = View(*d_.rooms, name, d_.unit_code);
    if (!view.ok()) return reactor->Finish(ToGrpcStatus(view.status()));
    *resp->mutable_room() = *std::move(view);
    // Let the participant's media token into the media room (HTTP: on the pool).
    d_.pool->Post([this, reactor, resp, name, media_token, media_id] {
      const MediaRoom room = MediaRoomFor(name);
      if (auto s = d_.backend->AllowToken(room, media_token); !s.ok()) {
        Log()->warn("event=media_allow_failed room={} error={}", name, LogValue(s.message()));
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
      m->set_media_participant_id(media_id);
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
grpc::ServerUnaryReactor* MediaGrpcService::AdmitParticipant(Ctx* ctx,
                                                             const v1::AdmitParticipantRequest* req,
                                                             v1::Room* resp) {
  if (auto* r =
          Relay(ctx, req->name(), *req, resp, &v1::MediaService::Stub::async::AdmitParticipant))
    return r;
  return Act(ctx, req->name(), req->participant(), resp, [req](internal::RoomOp& op) {
    op.set_actor(req->participant());
    op.set_participant(req->target());
    op.set_admit(true);
  });
}

// A moderator acting on `target`: the actor is the caller.
grpc::ServerUnaryReactor* MediaGrpcService::SendToLobby(Ctx* ctx, const v1::SendToLobbyRequest* req,
                                                        v1::Room* resp) {
  if (auto* r = Relay(ctx, req->name(), *req, resp, &v1::MediaService::Stub::async::SendToLobby))
    return r;
  return Act(ctx, req->name(), req->participant(), resp, [req](internal::RoomOp& op) {
    op.set_actor(req->participant());
    op.set_participant(req->target());
    op.set_send_to_lobby(true);
  });
}

// A moderator acting on `target`: the actor is the caller.
grpc::ServerUnaryReactor* MediaGrpcService::GrantFloor(Ctx* ctx, const v1::GrantFloorRequest* req,
                                                       v1::Room* resp) {
  if (auto* r = Relay(ctx, req->name(), *req, resp, &v1::MediaService::Stub::async::GrantFloor))
    return r;
  return Act(ctx, req->name(), req->participant(), resp, [req](internal::RoomOp& op) {
    op.set_actor(req->participant());
    op.set_participant(req->target());
    op.set_grant_floor(true);
  });
}

// A moderator acting on `target`: the actor is the caller.
grpc::ServerUnaryReactor* MediaGrpcService::MuteParticipant(Ctx* ctx,
                                                            const v1::MuteParticipantRequest* req,
                                                            v1::Room* resp) {
  if (auto* r =
          Relay(ctx, req->name(), *req, resp, &v1::MediaService::Stub::async::MuteParticipant))
    return r;
  return Act(ctx, req->name(), req->participant(), resp, [req](internal::RoomOp& op) {
    op.set_actor(req->participant());
    op.set_participant(req->target());
    op.set_mute(req->muted());
  });
}

grpc::ServerUnaryReactor* MediaGrpcService::LeaveRoom(Ctx* ctx, const v1::LeaveRoomRequest* req,
                                                      v1::Room* resp) {
  if (auto* r = Relay(ctx, req->name(), *req, resp, &v1::MediaService::Stub::async::LeaveRoom))
    return r;
  return Act(ctx, req->name(), req->participant(), resp,
             [req](internal::RoomOp& op) { op.set_leave(true); });
}

grpc::ServerUnaryReactor* MediaGrpcService::Heartbeat(Ctx* ctx, const v1::HeartbeatRequest* req,
                                                      v1::Room* resp) {
  if (auto* r = Relay(ctx, req->name(), *req, resp, &v1::MediaService::Stub::async::Heartbeat))
    return r;
  return Act(ctx, req->name(), req->participant(), resp,
             [req](internal::RoomOp& op) { op.set_heartbeat(true); });
}

grpc::ServerUnaryReactor* MediaGrpcService::RaiseHand(Ctx* ctx, const v1::RaiseHandRequest* req,
                                                      v1::Room* resp) {
  if (auto* r = Relay(ctx, req->name(), *req, resp, &v1::MediaService::Stub::async::RaiseHand))
    return r;
  return Act(ctx, req->name(), req->participant(), resp,
             [req](internal::RoomOp& op) { op.set_raise_hand(req->raised()); });
}

grpc::ServerUnaryReactor* MediaGrpcService::ReleaseFloor(Ctx* ctx,
                                                         const v1::ReleaseFloorRequest* req,
                                                         v1::Room* resp) {
  if (auto* r = Relay(ctx, req->name(), *req, resp, &v1::MediaService::Stub::async::ReleaseFloor))
    return r;
  return Act(ctx, req->name(), req->participant(), resp,
             [req](internal::RoomOp& op) { op.set_release_floor(true); });
}

grpc::ServerUnaryReactor* MediaGrpcService::SetRecordingConsent(
    Ctx* ctx, const v1::SetRecordingConsentRequest* req, v1::Room* resp) {
  if (auto* r =
          Relay(ctx, req->name(), *req, resp, &v1::MediaService::Stub::async::SetRecordingConsent))
    return r;
  return Act(ctx, req->name(), req->participant(), resp,
             [req](internal::RoomOp& op) { op.set_consent(req->consent()); });
}

grpc::ServerUnaryReactor* MediaGrpcService::SignMinutes(Ctx* ctx, const v1::SignMinutesRequest* req,
                                                        v1::Room* resp) {
  if (auto* r = Relay(ctx, req->name(), *req, resp, &v1::MediaService::Stub::async::SignMinutes))
    return r;
  return Act(ctx, req->name(), req->participant(), resp,
             [req](internal::RoomOp& op) { op.set_sign_minutes(true); });
}

grpc::ServerUnaryReactor* MediaGrpcService::RevokeFloor(Ctx* ctx, const v1::RevokeFloorRequest* req,
                                                        v1::Room* resp) {
  if (auto* r = Relay(ctx, req->name(), *req, resp, &v1::MediaService::Stub::async::RevokeFloor))
    return r;
  return Act(ctx, req->name(), req->participant(), resp, [req](internal::RoomOp& op) {
    op.set_actor(req->participant());
    op.set_revoke_floor(true);
  });
}

grpc::ServerUnaryReactor* MediaGrpcService::StartRecording(Ctx* ctx,
                                                           const v1::StartRecordingRequest* req,
                                                           v1::Room* resp) {
  if (auto* r = Relay(ctx, req->name(), *req, resp, &v1::MediaService::Stub::async::StartRecording))
    return r;
  return Act(ctx, req->name(), req->participant(), resp, [req](internal::RoomOp& op) {
    op.set_actor(req->participant());
    op.set_start_recording(true);
  });
}

grpc::ServerUnaryReactor* MediaGrpcService::StopRecording(Ctx* ctx,
                                                          const v1::StopRecordingRequest* req,
                                                          v1::Room* resp) {
  if (auto* r = Relay(ctx, req->name(), *req, resp, &v1::MediaService::Stub::async::StopRecording))
    return r;
  return Act(ctx, req->name(), req->participant(), resp, [req](internal::RoomOp& op) {
    op.set_actor(req->participant());
    op.set_stop_recording(true);
  });
}

grpc::ServerUnaryReactor* MediaGrpcService::RemoveParticipant(Ctx* ctx, const v1::RemoveParticipantRequest* req,
                                                              v1::Room* resp) {
  if (auto* r = Relay(ctx, req->name(), *req, resp, &v1::MediaService::Stub::async::RemoveParticipant)) return r;
  // Once removed here, the participant is kicked from the media room (the
  // id it joined the media server with); it cannot join again.
  std::string subject;
  (void)d_.rooms->With(req->name(), [&](const Room& room) {
    auto it = room.participants().find(req->target());
    if (it != room.participants().end()) subject = it->second.subject;
  });
  const std::string name = req->name();
  return Act(
      ctx, name, req->participant(), resp,
      [req](internal::RoomOp& op) {
        op.set_actor(req->participant());
        op.set_participant(req->target());
        op.set_remove(true);
      },
      [this, name, subject, target = req->target()] {
        const uint64_t id = MediaParticipantId(name, subject);
        d_.pool->Post([this, name, target, id] {
          auto s = d_.backend->Kick(MediaRoomFor(name), id);
          if (s.ok()) {
            Log()->info("event=media_kicked room={} participant={}", name, target);
          } else if (s.code() == absl::StatusCode::kNotFound) {
            Log()->info("event=media_kick_skipped room={} participant={} reason=\"not in the media room\"", name, target);
          } else {
            Log()->warn("event=media_kick_failed room={} participant={} error={}", name, target,
                        LogValue(s.message()));
          }
        });
      });
}

grpc::ServerUnaryReactor* MediaGrpcService::UpdateMinutes(Ctx* ctx, const v1::UpdateMinutesRequest* req,
                                                          v1::Room* resp) {
  if (auto* r = Relay(ctx, req->name(), *req, resp, &v1::MediaService::Stub::async::UpdateMinutes)) return r;
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
  if (auto* r = Relay(ctx, req->name(), *req, resp, &v1::MediaService::Stub::async::OpenRoom)) return r;
  return OpenOrClose(ctx, req->name(), resp, true);
}

grpc::ServerUnaryReactor* MediaGrpcService::CloseRoom(Ctx* ctx, const v1::CloseRoomRequest* req, v1::Room* resp) {
  if (auto* r = Relay(ctx, req->name(), *req, resp, &v1::MediaService::Stub::async::CloseRoom)) return r;
  return OpenOrClose(ctx, req->name(), resp, false);
}

grpc::ServerUnaryReactor* MediaGrpcService::OpenOrClose(Ctx* ctx, const std::string& name, v1::Room* resp,
                                                        bool open) {
  auto p = d_.auth->Authenticate(*ctx);
  if (!p.ok()) return Finish(ctx, p.status());
  if (!StaffOrOwnNode(*p, d_.unit_code)) {
    return Finish(ctx, absl::PermissionDeniedError("opening and closing rooms needs an officer, inspector or head"));
  }
  if (p->unit_code != d_.unit_code) {
    return Finish(ctx, absl::PermissionDeniedError(absl::StrCat("rooms of unit ", d_.unit_code, " are opened and closed by its staff")));
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
          Log()->warn("event=media_close_failed room={} error={}", name, LogValue(s.message()));
        }
        reactor->Finish(grpc::Status::OK);
      });
    });
  });
  return reactor;
}

namespace {

// One WatchRoom stream: sends the room's events in order, one write at a
// time, reading more whenever the room has new ones (Wake) or a write is
// done; ends when the room closes. Never blocks a reactor thread.
class WatchReactor final : public grpc::ServerWriteReactor<v1::RoomEvent>, public RoomWatchers::Watcher {
 public:
  WatchReactor(MediaGrpcService* service, std::string name, int64_t after, std::string participant)
      : service_(service), name_(std::move(name)), participant_(std::move(participant)), after_(after) {
    service_->watchers()->Add(name_, participant_, this);
    Wake();
  }

  void Wake() override {
    grpc::Status finish;
    bool finishing = false;
    {
      absl::MutexLock lock(&mu_);
      if (writing_ || finished_) return;
      if (buffer_.empty()) {
        auto batch = service_->Fetch(name_, after_, 64);
        if (!batch.ok()) {
          finishing = true;
          finish = ToGrpcStatus(batch.status());
        } else {
          for (auto& e : batch->events) buffer_.push_back(std::move(e));
          finishing = buffer_.empty() && batch->ended;
        }
      }
      if (finishing) {
        finished_ = true;
      } else if (!buffer_.empty()) {
        current_ = std::move(buffer_.front());
        buffer_.pop_front();
        writing_ = true;
      } else {
        return;
      }
    }
    if (finishing) return Finish(finish);
    StartWrite(&current_);
  }

  void OnWriteDone(bool ok) override {
    bool finish = false;
    {
      absl::MutexLock lock(&mu_);
      writing_ = false;
      if (!ok || cancelled_) {
        finish = !finished_;
        finished_ = true;
      } else {
        after_ = current_.sequence();
      }
    }
    if (finish) return Finish(grpc::Status(grpc::StatusCode::CANCELLED, "the watcher went away"));
    Wake();
  }

  void OnCancel() override {
    bool finish = false;
    {
      absl::MutexLock lock(&mu_);
      cancelled_ = true;
      if (!writing_ && !finished_) {
        finished_ = true;
        finish = true;
      }
    }
    if (finish) Finish(grpc::Status(grpc::StatusCode::CANCELLED, "the watcher went away"));
  }

  void OnDone() override {
    const bool last = service_->watchers()->Remove(name_, participant_, this);
    if (last && !participant_.empty()) service_->StreamEnded(name_, participant_);
    Unref();
  }

 private:
  MediaGrpcService* service_;
  const std::string name_, participant_;
  absl::Mutex mu_;
  int64_t after_ ABSL_GUARDED_BY(mu_);
  std::deque<v1::RoomEvent> buffer_ ABSL_GUARDED_BY(mu_);
  v1::RoomEvent current_;  // the event being written
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace

grpc::ServerWriteReactor<v1::RoomEvent>* MediaGrpcService::WatchRoom(Ctx* ctx, const v1::WatchRoomRequest* req) {
  auto refuse = [](const absl::Status& s) {
    struct Refused : grpc::ServerWriteReactor<v1::RoomEvent> {
      explicit Refused(const absl::Status& s) { Finish(ToGrpcStatus(s)); }
      void OnDone() override { delete this; }
    };
    return new Refused(s);
  };
  auto p = d_.auth->Authenticate(*ctx);
  if (!p.ok()) return refuse(p.status());
  if (auto s = ValidRoomName(req->name()); !s.ok()) return refuse(s);
  if (req->after_sequence() < 0) return refuse(InvalidField("after_sequence", "must not be negative"));
  const bool bridged = d_.bridges != nullptr && d_.bridges->IsBridged(req->name());
  std::string present;  // a site watching under its id
  if (!bridged) {
    absl::Status who = absl::OkStatus();
    auto found = d_.rooms->With(req->name(), [&](const Room& room) {
      if (req->participant().empty()) return;
      auto it = room.participants().find(req->participant());
      if (it == room.participants().end()) {
        who = InvalidField("participant", absl::StrCat("is not a participant of ", req->name()));
      } else if (it->second.subject != p->subject) {
        who = absl::PermissionDeniedError(absl::StrCat("participant ", req->participant(), " is someone else"));
      } else if (it->second.role == Role::kSite) {
        present = req->participant();
      }
    });
    if (!found.ok()) return refuse(found);
    if (!who.ok()) return refuse(who);
  } else if (!req->participant().empty()) {
    return refuse(InvalidField("participant", "is only for watching a room on its host's node"));
  }
  return new WatchReactor(this, req->name(), req->after_sequence(), present);
}

void MediaGrpcService::StreamEnded(const std::string& name, const std::string& participant) {
  bool present = false;
  (void)d_.rooms->With(name, [&](const Room& room) {
    auto it = room.participants().find(participant);
    present = room.state() == RoomState::kOpen && it != room.participants().end() &&
              (it->second.presence == Presence::kInRoom || it->second.presence == Presence::kLobby);
  });
  if (!present) return;
  internal::RoomOp op;
  op.set_room(name);
  op.set_time_unix_micros(absl::ToUnixMicros(d_.clock->Now()));
  op.set_participant(participant);
  op.set_disconnect(true);
  op.set_detail("bridge link lost");
  Log()->warn("event=bridge_site_disconnected room={} participant={}", name, participant);
  d_.rooms->Apply(op, [](absl::StatusOr<std::string>) {});
}

grpc::ServerUnaryReactor* MediaGrpcService::ConnectBridge(Ctx* ctx, const v1::ConnectBridgeRequest* req,
                                                          v1::Room* resp) {
  auto p = d_.auth->Authenticate(*ctx);
  if (!p.ok()) return Finish(ctx, p.status());
  if (p->role != reception::Role::kReceptionOfficer && p->role != reception::Role::kHead &&
      p->role != reception::Role::kInspector) {
    return Finish(ctx, absl::PermissionDeniedError("ConnectBridge needs an officer, inspector or head"));
  }
  if (p->unit_code != d_.unit_code) {
    return Finish(ctx, absl::PermissionDeniedError(absl::StrCat("unit ", d_.unit_code, "'s staff connect its bridge")));
  }
  if (auto s = ValidRoomName(req->name()); !s.ok()) return Finish(ctx, s);
  if (req->host_unit().empty()) return Finish(ctx, InvalidField("host_unit", "must be set"));
  if (req->host_unit() == d_.unit_code) return Finish(ctx, InvalidField("host_unit", "is this node's own unit"));
  if (d_.bridges == nullptr) return Finish(ctx, absl::FailedPreconditionError("this node has no federation peers to bridge to"));
  if (d_.rooms->With(req->name(), [](const Room&) {}).ok()) {
    return Finish(ctx, absl::AlreadyExistsError(absl::StrCat(req->name(), " is a room hosted here")));
  }
  auto* reactor = ctx->DefaultReactor();
  d_.bridges->Connect(req->name(), req->host_unit(), [reactor, resp](absl::StatusOr<v1::Room> room) {
    if (room.ok()) *resp = *std::move(room);
    reactor->Finish(ToGrpcStatus(room.status()));
  });
  return reactor;
}

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
        by_state[room.state() == RoomState::kScheduled ? "scheduled" : room.state() == RoomState::kOpen ? "open" : "closed"]++;
        if (room.state() == RoomState::kOpen) {
          for (const auto& [pid, p] : room.participants()) by_presence[std::string(PresenceName(p.presence))]++;
        }
        for (const auto& [c, a] : room.Attachments()) pending += a.state == AttachmentState::kPending;
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
    auto people = family("reception_media_participants", "Participants of open rooms hosted here, by presence");
    for (const auto& [presence, n] : by_presence) add(people, {"presence", presence}, n);
    auto streams = family("reception_media_watch_streams", "Open WatchRoom streams served by this node");
    add(streams, {}, static_cast<double>(watchers_->size()));
    auto attach = family("reception_media_attachments_pending",
                         "Locked minutes not yet attached to a case they concern");
    add(attach, {}, pending);
    std::vector<prometheus::MetricFamily> out = {rooms, people, streams, attach};
    if (bridges_ != nullptr) {
      auto links = family("reception_media_bridge_links",
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
  const absl::Time started = context.clock->Now();
  for (const auto& id : m->rooms_->RoomIds()) {
    std::vector<std::string> sites;
    (void)m->rooms_->With(id, [&](const Room& room) {
      if (room.state() != RoomState::kOpen) return;
      for (const auto& [pid, p] : room.participants()) {
        if (p.role == Role::kSite && (p.presence == Presence::kInRoom || p.presence == Presence::kLobby)) {
          sites.push_back(pid);
        }
      }
    });
    for (const auto& site : sites) {
      internal::RoomOp op;
      op.set_room(id);
      op.set_time_unix_micros(absl::ToUnixMicros(started));
      op.set_participant(site);
      op.set_disconnect(true);
      op.set_detail("host restarted: bridge link lost");
      m->rooms_->Apply(op, [](absl::StatusOr<std::string>) {});
    }
  }
  if (config.federation().peers_size() > 0) {
    BridgeLinks::Options bo;
    bo.unit_code = config.unit_code();
    bo.credentials = context.credentials;
    for (const auto& peer : config.federation().peers()) bo.peers[peer.unit_code()] = peer.address();
    if (config.federation().retry_initial_millis() > 0) bo.retry_initial = absl::Milliseconds(config.federation().retry_initial_millis());
    if (config.federation().retry_max_millis() > 0) bo.retry_max = absl::Milliseconds(config.federation().retry_max_millis());
    bo.store = m->store_.get();
    bo.watchers = watchers;
    bo.clock = context.clock;
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
  deps.watchers = watchers;
  deps.bridges = m->bridges_.get();
  deps.topology = &context.topology;
  m->service_ = std::make_unique<MediaGrpcService>(std::move(deps));
  m->gauges_ = std::make_shared<MediaGauges>(m->rooms_.get(), watchers, m->bridges_.get());
  const absl::Duration timeout = absl::Seconds(config.media().heartbeat_timeout_seconds());
  MediaModule* self = m.get();
  m->expire_ = std::thread([self, timeout] { self->ExpireLoop(timeout); });
  m->minutes_->Start();
  Log()->info("event=media_service_ready backend={} rooms={}", m->backend_->name(), m->rooms_->RoomIds().size());
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
        if (watchers_->HasStream(id, who)) continue;  // a bridge site is present while its stream is open
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
  pool_.reset();   // finishes media-server calls (their callbacks use the registry)
  store_.reset();  // completes queued operations
}

}  // namespace reception::media
