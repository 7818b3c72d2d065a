#include "services/media/room_service.h"

#include <algorithm>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "services/common/logging.h"
#include "services/common/status.h"
#include "services/common/text.h"

namespace reception::media {
namespace {

v1::Presence PresenceToProto(Presence p) {
  switch (p) {
    case Presence::kLobby:
      return v1::PRESENCE_LOBBY;
    case Presence::kInRoom:
      return v1::PRESENCE_IN_ROOM;
    case Presence::kDisconnected:
      return v1::PRESENCE_DISCONNECTED;
    case Presence::kRemoved:
      return v1::PRESENCE_REMOVED;
    case Presence::kLeft:
      return v1::PRESENCE_LEFT;
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

bool Staff(const Principal& p) {
  return p.role == reception::Role::kReceptionOfficer || p.role == reception::Role::kHead ||
         p.role == reception::Role::kInspector;
}

// The participant must be the caller.
absl::Status ActsAsItself(const Room& room, const std::string& participant, const Principal& p,
                          const std::string& name) {
  auto it = room.participants().find(participant);
  if (it == room.participants().end()) {
    return InvalidField("participant", absl::StrCat("is not a participant of ", name));
  }
  if (it->second.subject != p.subject) {
    return absl::PermissionDeniedError(
        absl::StrCat("participant ", participant, " is someone else"));
  }
  return absl::OkStatus();
}

internal::RoomOp NewOp(const std::string& room, const Clock& clock) {
  internal::RoomOp op;
  op.set_room(room);
  op.set_time_unix_micros(absl::ToUnixMicros(clock.Now()));
  return op;
}

}  // namespace

absl::Status RoomService::ValidRoomName(absl::string_view name) {
  absl::string_view id = name;
  if (!absl::ConsumePrefix(&id, "rooms/") || id.empty() || id.size() > 40) {
    return InvalidField("name", "must be rooms/{room_id}");
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::Room> RoomService::View(const std::string& name) const {
  v1::Room out;
  auto s = d_.rooms->With(name, [&](const Room& room) { out = ToProto(room); });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<EventBatch> RoomService::Events(const std::string& name, int64_t after,
                                               int limit) const {
  EventBatch out;
  absl::StatusOr<std::vector<RoomEvent>> events;
  bool closed = false;
  auto found = d_.rooms->With(name, [&](const Room& room) {
    events = room.EventsAfter(after);
    closed = room.state() == RoomState::kClosed;
  });
  if (!found.ok()) return found;
  if (!events.ok()) return events.status();
  for (const auto& e : *events) {
    if (static_cast<int>(out.events.size()) == limit) break;
    out.events.push_back(ToProto(e));
  }
  out.ended = closed && out.events.size() == events->size();
  return out;
}

void RoomService::ApplyAndView(internal::RoomOp op, Callback<v1::Room> done,
                               std::function<void()> after) {
  const std::string name = op.room();
  d_.rooms->Apply(std::move(op), [this, name, done = std::move(done),
                                  after = std::move(after)](absl::StatusOr<std::string> r) mutable {
    if (!r.ok()) return done(r.status());
    auto view = View(name);
    if (after) after();
    done(std::move(view));
  });
}

void RoomService::CreateRoom(const Principal& p, const v1::CreateRoomRequest& req,
                             Callback<v1::Room> done) {
  if (!StaffOrOwnNode(p, d_.unit_code)) {
    return done(absl::PermissionDeniedError(
        absl::StrCat("CreateRoom needs an officer, inspector or head of unit ", d_.unit_code,
                     ", which hosts the room")));
  }
  const std::string& id = req.room_id();
  if (id.empty() || id.size() > 40 || !std::all_of(id.begin(), id.end(), [](char c) {
        return absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '-';
      })) {
    return done(InvalidField("room_id", "must be 1-40 characters of a-z, 0-9 and -"));
  }
  if (req.session().size() > 200)
    return done(InvalidField("session", "must be at most 200 characters"));
  if (req.agenda_cases_size() > 100)
    return done(InvalidField("agenda_cases", "must list at most 100 cases"));
  if (req.bridges_size() > 500)
    return done(InvalidField("bridges", "must list at most 500 bridge points"));
  internal::RoomOp op = NewOp(absl::StrCat("rooms/", id), *d_.clock);
  auto* create = op.mutable_create();
  create->set_host_unit(d_.unit_code);
  create->set_session(req.session());
  std::set<std::string> seen;
  for (int i = 0; i < req.agenda_cases_size(); ++i) {
    const std::string& c = req.agenda_cases(i);
    absl::string_view number = c;
    if (!absl::ConsumePrefix(&number, "cases/") || number.empty() || number.size() > 40) {
      return done(InvalidField(absl::StrCat("agenda_cases[", i, "]"), "must be cases/{number}"));
    }
    if (seen.insert(c).second) create->add_agenda_cases(c);
  }
  seen.clear();
  for (int i = 0; i < req.bridges_size(); ++i) {
    const auto& b = req.bridges(i);
    const std::string field = absl::StrCat("bridges[", i, "]");
    if (b.unit().empty()) return done(InvalidField(field + ".unit", "must be set"));
    if (b.unit() == d_.unit_code) return done(InvalidField(field + ".unit", "is the host itself"));
    if (d_.topology != nullptr && d_.topology->Find(b.unit()) == nullptr) {
      return done(InvalidField(field + ".unit", absl::StrCat("is not a unit of the topology: ",
                                                             b.unit().substr(0, 32))));
    }
    if (!seen.insert(b.unit()).second)
      return done(InvalidField(field + ".unit", "is listed twice"));
    if (!b.sip_uri().empty()) {
      absl::string_view uri = b.sip_uri();
      const bool scheme = absl::ConsumePrefix(&uri, "sip:") || absl::ConsumePrefix(&uri, "sips:");
      const size_t at = uri.find('@');
      if (!scheme || at == 0 || at == absl::string_view::npos || at + 1 == uri.size() ||
          b.sip_uri().size() > 256 ||
          std::any_of(uri.begin(), uri.end(), [](char c) { return c <= ' ' || c == 0x7f; })) {
        return done(InvalidField(
            field + ".sip_uri",
            "must be sip:user@host or sips:user@host (RFC 3261), at most 256 characters"));
      }
    }
    auto* q = create->add_bridges();
    q->set_unit(b.unit());
    q->set_sip_uri(b.sip_uri());
  }
  ApplyAndView(std::move(op), std::move(done));
}

absl::StatusOr<v1::JoinToken> RoomService::IssueJoinToken(
    const Principal& p, const v1::IssueJoinTokenRequest& req) const {
  if (!Staff(p) && p.role != reception::Role::kNode) {
    return absl::PermissionDeniedError("IssueJoinToken needs an officer, inspector or head");
  }
  auto role = ParseRole(req.role());
  if (!role.ok()) return InvalidField("role", role.status().message());
  // Subjects and units end up in tokens, rooms and logs: plain, bounded.
  if (req.unit().empty() || req.unit().size() > 32 ||
      !std::all_of(req.unit().begin(), req.unit().end(), [](char c) {
        return absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '.';
      })) {
    return InvalidField("unit", "must be a unit code: 1-32 letters, digits, '-', '_' or '.'");
  }
  if (req.subject().empty() || !IsValidUtf8(req.subject()) ||
      HasControlCharacters(req.subject(), false) || CodePointCount(req.subject()) > 128) {
    return InvalidField("subject",
                        "must be 1-128 characters of UTF-8 text without control characters");
  }
  if (req.ttl_seconds() < 0 || req.ttl_seconds() > 86400) {
    return InvalidField("ttl_seconds", "must be at most 86400");
  }
  bool bridge = false;
  RECEPTION_RETURN_IF_ERROR(d_.rooms->With(
      req.name(), [&](const Room& room) { bridge = room.Bridge(p.unit_code) != nullptr; }));
  // The host's staff issue any token. A bridge point's staff issue tokens
  // for people at their own site (not the presiding official); its node
  // issues the site's own token.
  if (p.unit_code != d_.unit_code) {
    if (!bridge) {
      return absl::PermissionDeniedError(absl::StrCat(
          "join tokens for ", req.name(), " are issued by the staff of unit ", d_.unit_code,
          " or of its bridge points; unit ", p.unit_code.substr(0, 32), " is neither"));
    }
    if (req.unit() != p.unit_code) {
      return InvalidField("unit", absl::StrCat("must be ", p.unit_code,
                                               ": a bridge point issues tokens for its own site"));
    }
    if (*role == Role::kPresiding) {
      return absl::PermissionDeniedError(
          "the presiding official's token is issued by the host unit");
    }
  }
  if (p.role == reception::Role::kNode && (*role != Role::kSite || req.subject() != p.subject)) {
    return absl::PermissionDeniedError("a node issues only its own site's token");
  }
  if (*role == Role::kSite && p.unit_code != d_.unit_code &&
      req.subject() != absl::StrCat("node:", p.unit_code)) {
    return InvalidField("subject",
                        absl::StrCat("a bridge site joins as its node, node:", p.unit_code));
  }
  const absl::Time expire =
      d_.clock->Now() + absl::Seconds(req.ttl_seconds() == 0 ? 900 : req.ttl_seconds());
  auto token = d_.signer->Issue({req.name(), req.role(), req.unit(), req.subject(), expire});
  Log()->info("event=join_token_issued room={} role={} unit={} by_unit={}", LogValue(req.name()),
              req.role(), LogValue(req.unit()), p.unit_code);
  if (!token.ok()) return token.status();
  v1::JoinToken out;
  out.set_token(*token);
  out.mutable_expire_time()->set_seconds(absl::ToUnixSeconds(expire));
  return out;
}

void RoomService::JoinRoom(const Principal& p, const v1::JoinRoomRequest& req,
                           Callback<v1::JoinRoomResponse> done) {
  auto claims = d_.signer->Verify(req.join_token(), req.name(), d_.clock->Now());
  if (!claims.ok()) return done(claims.status());
  if (claims->subject != p.subject) {
    return done(absl::PermissionDeniedError("join_token was issued to another subject"));
  }
  internal::RoomOp op = NewOp(req.name(), *d_.clock);
  op.mutable_join()->set_subject(claims->subject);
  op.mutable_join()->set_role(claims->role);
  op.mutable_join()->set_unit(claims->unit);
  const std::string media_token = absl::BytesToHexString(
      d_.signer->Derive(absl::StrCat("media-token:", req.name(), ":", claims->subject))
          .substr(0, 16));
  const uint64_t media_id = MediaParticipantId(req.name(), claims->subject);
  d_.rooms->Apply(op, [this, name = req.name(), media_token, media_id,
                       done = std::move(done)](absl::StatusOr<std::string> r) mutable {
    if (!r.ok()) return done(r.status());
    auto resp = std::make_shared<v1::JoinRoomResponse>();
    resp->set_participant(*r);
    auto view = View(name);
    if (!view.ok()) return done(view.status());
    *resp->mutable_room() = *std::move(view);
    // Let the participant's media token into the media room (HTTP: on the pool).
    d_.pool->Post([this, resp, name, media_token, media_id, done = std::move(done)]() mutable {
      const MediaRoom room = MediaRoomFor(name);
      if (auto s = d_.backend->AllowToken(room, media_token); !s.ok()) {
        Log()->warn("event=media_allow_failed room={} error={}", name, LogValue(s.message()));
        return done(absl::UnavailableError(
            absl::StrCat("joined, but the media server refused the participant: ", s.message(),
                         "; join again")));
      }
      const MediaAccess a = d_.backend->AccessFor(room, media_token);
      auto* m = resp->mutable_media();
      m->set_backend(a.backend);
      m->set_url(a.url);
      m->set_media_room(a.room);
      m->set_pin(a.pin);
      m->set_media_token(a.token);
      m->set_media_participant_id(media_id);
      done(std::move(*resp));
    });
  });
}

void RoomService::Act(const Principal& p, const std::string& name, const std::string& participant,
                      const Fill& fill, Callback<v1::Room> done, std::function<void()> after) {
  absl::Status who = absl::OkStatus();
  auto found = d_.rooms->With(
      name, [&](const Room& room) { who = ActsAsItself(room, participant, p, name); });
  if (!found.ok()) return done(found);
  if (!who.ok()) return done(who);
  internal::RoomOp op = NewOp(name, *d_.clock);
  op.set_participant(participant);
  fill(op);
  ApplyAndView(std::move(op), std::move(done), std::move(after));
}

void RoomService::RemoveParticipant(const Principal& p, const v1::RemoveParticipantRequest& req,
                                    Callback<v1::Room> done) {
  // Once removed here, the participant is kicked from the media room (the
  // id it joined the media server with); it cannot join again.
  std::string subject;
  (void)d_.rooms->With(req.name(), [&](const Room& room) {
    auto it = room.participants().find(req.target());
    if (it != room.participants().end()) subject = it->second.subject;
  });
  const std::string name = req.name();
  Act(
      p, name, req.participant(),
      [&req](internal::RoomOp& op) {
        op.set_actor(req.participant());
        op.set_participant(req.target());
        op.set_remove(true);
      },
      std::move(done),
      [this, name, subject, target = req.target()] {
        const uint64_t id = MediaParticipantId(name, subject);
        d_.pool->Post([this, name, target, id] {
          auto s = d_.backend->Kick(MediaRoomFor(name), id);
          if (s.ok()) {
            Log()->info("event=media_kicked room={} participant={}", name, target);
          } else if (s.code() == absl::StatusCode::kNotFound) {
            Log()->info(
                "event=media_kick_skipped room={} participant={} reason=\"not in the media room\"",
                name, target);
          } else {
            Log()->warn("event=media_kick_failed room={} participant={} error={}", name, target,
                        LogValue(s.message()));
          }
        });
      });
}

void RoomService::OpenOrClose(const Principal& p, const std::string& name, bool open,
                              const std::string& etag, Callback<v1::Room> done) {
  if (!StaffOrOwnNode(p, d_.unit_code)) {
    return done(absl::PermissionDeniedError(
        "opening and closing rooms needs an officer, inspector or head"));
  }
  if (p.unit_code != d_.unit_code) {
    return done(absl::PermissionDeniedError(
        absl::StrCat("rooms of unit ", d_.unit_code, " are opened and closed by its staff")));
  }
  if (etag.size() > 64) return done(InvalidField("etag", "is not an etag this service returned"));
  bool stale = false;
  if (auto s = d_.rooms->With(name,
                              [&](const Room& room) {
                                stale = !etag.empty() &&
                                        etag != absl::StrCat("e", room.last_sequence());
                              });
      !s.ok()) {
    return done(s);
  }
  if (stale) {
    return done(WithReason(absl::AbortedError(absl::StrCat("etag ", etag, " is stale: ", name,
                                                           " changed; read it again")),
                           "ETAG_MISMATCH"));
  }
  // Media server first when opening (no open room without its media room),
  // last when closing; both over HTTP, so on the pool.
  d_.pool->Post([this, name, open, etag, done = std::move(done)]() mutable {
    const MediaRoom media = MediaRoomFor(name);
    if (open) {
      if (auto s = d_.backend->OpenRoom(media); !s.ok()) return done(s);
    }
    internal::RoomOp op = NewOp(name, *d_.clock);
    op.set_expected_etag(etag);
    if (open) {
      op.set_open(true);
    } else {
      op.set_close(true);
    }
    d_.rooms->Apply(op, [this, name, open, media,
                         done = std::move(done)](absl::StatusOr<std::string> r) mutable {
      if (!r.ok()) return done(r.status());
      auto view = View(name);
      if (open || !view.ok()) return done(std::move(view));
      d_.pool->Post([this, name, media, view = *std::move(view), done = std::move(done)]() mutable {
        if (auto s = d_.backend->CloseRoom(media); !s.ok()) {
          Log()->warn("event=media_close_failed room={} error={}", name, LogValue(s.message()));
        }
        done(std::move(view));
      });
    });
  });
}

absl::StatusOr<std::string> RoomService::CheckWatch(const Principal& p,
                                                    const v1::WatchRoomRequest& req) const {
  std::string present;  // a site watching under its id
  absl::Status who = absl::OkStatus();
  RECEPTION_RETURN_IF_ERROR(d_.rooms->With(req.name(), [&](const Room& room) {
    if (req.participant().empty()) return;
    who = ActsAsItself(room, req.participant(), p, req.name());
    if (who.ok() && room.participants().at(req.participant()).role == Role::kSite) {
      present = req.participant();
    }
  }));
  RECEPTION_RETURN_IF_ERROR(who);
  return present;
}

void RoomService::StreamEnded(const std::string& name, const std::string& participant) {
  bool present = false;
  (void)d_.rooms->With(name, [&](const Room& room) {
    auto it = room.participants().find(participant);
    present = room.state() == RoomState::kOpen && it != room.participants().end() &&
              (it->second.presence == Presence::kInRoom || it->second.presence == Presence::kLobby);
  });
  if (!present) return;
  internal::RoomOp op = NewOp(name, *d_.clock);
  op.set_participant(participant);
  op.set_disconnect(true);
  op.set_detail("bridge link lost");
  Log()->warn("event=bridge_site_disconnected room={} participant={}", name, participant);
  d_.rooms->Apply(op, [](absl::StatusOr<std::string>) {});
}

absl::Status RoomService::CheckConnectBridge(const Principal& p,
                                             const v1::ConnectBridgeRequest& req) const {
  if (!Staff(p)) {
    return absl::PermissionDeniedError("ConnectBridge needs an officer, inspector or head");
  }
  if (p.unit_code != d_.unit_code) {
    return absl::PermissionDeniedError(
        absl::StrCat("unit ", d_.unit_code, "'s staff connect its bridge"));
  }
  RECEPTION_RETURN_IF_ERROR(ValidRoomName(req.name()));
  if (req.host_unit().empty()) return InvalidField("host_unit", "must be set");
  if (req.host_unit() == d_.unit_code) return InvalidField("host_unit", "is this node's own unit");
  if (d_.rooms->With(req.name(), [](const Room&) {}).ok()) {
    return absl::AlreadyExistsError(absl::StrCat(req.name(), " is a room hosted here"));
  }
  return absl::OkStatus();
}

void RoomService::DisconnectBridgeSites(absl::Time now) {
  for (const auto& id : d_.rooms->RoomIds()) {
    std::vector<std::string> sites;
    (void)d_.rooms->With(id, [&](const Room& room) {
      if (room.state() != RoomState::kOpen) return;
      for (const auto& [pid, p] : room.participants()) {
        if (p.role == Role::kSite &&
            (p.presence == Presence::kInRoom || p.presence == Presence::kLobby)) {
          sites.push_back(pid);
        }
      }
    });
    for (const auto& site : sites) {
      internal::RoomOp op;
      op.set_room(id);
      op.set_time_unix_micros(absl::ToUnixMicros(now));
      op.set_participant(site);
      op.set_disconnect(true);
      op.set_detail("host restarted: bridge link lost");
      d_.rooms->Apply(op, [](absl::StatusOr<std::string>) {});
    }
  }
}

MediaRoom RoomService::MediaRoomFor(const std::string& room) const {
  MediaRoom m;
  const std::string number = d_.signer->Derive(absl::StrCat("media-room:", room));
  for (int i = 0; i < 6; ++i) m.number = (m.number << 8) | static_cast<unsigned char>(number[i]);
  m.description = room;
  m.secret =
      absl::BytesToHexString(d_.signer->Derive(absl::StrCat("media-secret:", room)).substr(0, 16));
  const std::string pin = d_.signer->Derive(absl::StrCat("media-pin:", room));
  for (int i = 0; i < 6; ++i) {
    m.pin.push_back(static_cast<char>('0' + static_cast<unsigned char>(pin[i]) % 10));
  }
  return m;
}

uint64_t RoomService::MediaParticipantId(const std::string& room,
                                         const std::string& subject) const {
  // 48 bits: below 2^53, so JavaScript clients keep it exact; never 0.
  const std::string d = d_.signer->Derive(absl::StrCat("media-participant:", room, ":", subject));
  uint64_t id = 0;
  for (int i = 0; i < 6; ++i) id = (id << 8) | static_cast<unsigned char>(d[i]);
  return id == 0 ? 1 : id;
}

v1::Room ToProto(const Room& room) {
  v1::Room out;
  out.set_name(room.name());
  switch (room.state()) {
    case RoomState::kScheduled:
      out.set_state(v1::ROOM_STATE_SCHEDULED);
      break;
    case RoomState::kOpen:
      out.set_state(v1::ROOM_STATE_OPEN);
      break;
    case RoomState::kClosed:
      out.set_state(v1::ROOM_STATE_CLOSED);
      break;
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
  out.set_etag(absl::StrCat("e", room.last_sequence()));
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

}  // namespace reception::media
