#include "services/media/room.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "services/common/text.h"

namespace reception::media {
namespace {

constexpr std::pair<Role, absl::string_view> kRoles[] = {
    {Role::kPresiding, "presiding"},     {Role::kOfficer, "officer"},   {Role::kCitizen, "citizen"},
    {Role::kInterpreter, "interpreter"}, {Role::kObserver, "observer"}, {Role::kSite, "site"}};

bool Present(const Participant& p) { return p.presence == Presence::kInRoom; }

}  // namespace

absl::StatusOr<Role> ParseRole(absl::string_view role) {
  for (const auto& [r, name] : kRoles) {
    if (name == role) return r;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "role must be one of presiding, officer, citizen, interpreter, observer, site (got \"",
      role.substr(0, 32), "\")"));
}

absl::string_view RoleName(Role role) {
  for (const auto& [r, name] : kRoles) {
    if (r == role) return name;
  }
  return "unknown";
}

absl::string_view PresenceName(Presence presence) {
  switch (presence) {
    case Presence::kLobby:
      return "lobby";
    case Presence::kInRoom:
      return "in_room";
    case Presence::kDisconnected:
      return "disconnected";
    case Presence::kRemoved:
      return "removed";
    case Presence::kLeft:
      return "left";
  }
  return "unknown";
}

Room::Room(std::string name, RoomSetup setup, absl::Time now)
    : name_(std::move(name)), setup_(std::move(setup)) {
  Emit(now, "scheduled", "", setup_.host_unit);
}

const BridgeSite* Room::Bridge(absl::string_view unit) const {
  for (const auto& b : setup_.bridges) {
    if (b.unit == unit) return &b;
  }
  return nullptr;
}

std::vector<std::string> Room::ConcernedCases() const {
  std::vector<std::string> cases = setup_.agenda_cases;
  for (const auto& c : minutes_.draft.cases) {
    if (std::find(cases.begin(), cases.end(), c) == cases.end()) cases.push_back(c);
  }
  return cases;
}

std::map<std::string, Attachment> Room::Attachments() const {
  std::map<std::string, Attachment> out;
  if (!minutes_.locked) return out;
  for (const auto& c : ConcernedCases()) out[c];
  for (const auto& [c, a] : attachments_) out[c] = a;
  return out;
}

absl::Status Room::RecordAttachment(const std::string& case_name, bool attached, std::string detail,
                                    absl::Time now) {
  auto all = Attachments();
  auto it = all.find(case_name);
  if (it == all.end()) {
    return absl::FailedPreconditionError(
        absl::StrCat(case_name, " is not concerned by locked minutes of ", name_));
  }
  // Pending, or failed and then delivered after an operator's retry.
  if (it->second.state == AttachmentState::kAttached ||
      (it->second.state == AttachmentState::kFailed && !attached)) {
    return absl::FailedPreconditionError(
        absl::StrCat("the minutes' attachment to ", case_name, " is settled"));
  }
  attachments_[case_name] = {attached ? AttachmentState::kAttached : AttachmentState::kFailed,
                             detail};
  Emit(now, attached ? "minutes_attached" : "minutes_attach_failed", "",
       attached ? case_name : absl::StrCat(case_name, ": ", detail));
  return absl::OkStatus();
}

void Room::Emit(absl::Time now, std::string kind, std::string participant, std::string detail) {
  events_.push_back(
      {next_sequence_++, now, std::move(kind), std::move(participant), std::move(detail)});
  if (events_.size() > kKeptEvents) events_.pop_front();
}

absl::Status Room::RequireOpen() const {
  if (state_ != RoomState::kOpen) {
    return absl::FailedPreconditionError(
        absl::StrCat(name_, " is ", state_ == RoomState::kScheduled ? "not open yet" : "closed"));
  }
  return absl::OkStatus();
}

absl::StatusOr<Participant*> Room::Find(const std::string& id) {
  auto it = participants_.find(id);
  if (it == participants_.end()) {
    return absl::NotFoundError(
        absl::StrCat("participant ", id.substr(0, 32), " is not in ", name_));
  }
  return &it->second;
}

absl::Status Room::RequireModerator(const std::string& actor) {
  auto p = Find(actor);
  if (!p.ok()) return p.status();
  if (((*p)->role != Role::kPresiding && (*p)->role != Role::kOfficer) || !Present(**p)) {
    return absl::PermissionDeniedError(
        "only the presiding official or a reception officer in the room may do this");
  }
  return absl::OkStatus();
}

std::vector<std::string> Room::HandQueue() const { return hand_order_; }

absl::Status Room::Open(absl::Time now) {
  if (state_ != RoomState::kScheduled) {
    return absl::FailedPreconditionError(
        absl::StrCat(name_, " is already ", state_ == RoomState::kOpen ? "open" : "closed"));
  }
  state_ = RoomState::kOpen;
  opened_at_ = now;
  Emit(now, "opened", "");
  return absl::OkStatus();
}

absl::Status Room::Close(absl::Time now) {
  if (state_ == RoomState::kClosed)
    return absl::FailedPreconditionError(absl::StrCat(name_, " is already closed"));
  if (recording_) {
    recording_ = false;
    Emit(now, "recording_stopped", "", "room closed");
  }
  floor_.reset();
  hand_order_.clear();
  state_ = RoomState::kClosed;
  closed_at_ = now;
  Emit(now, "closed", "");
  return absl::OkStatus();
}

absl::StatusOr<std::string> Room::Join(const std::string& subject, Role role,
                                       const std::string& unit, absl::Time now) {
  if (auto s = RequireOpen(); !s.ok()) return s;
  for (auto& [id, p] : participants_) {
    if (p.subject != subject) continue;
    if (p.presence == Presence::kRemoved) {
      return absl::PermissionDeniedError(
          absl::StrCat(subject.substr(0, 64), " was removed from ", name_));
    }
    // A rejoin with the same identity: back where they were.
    if (p.presence == Presence::kDisconnected || p.presence == Presence::kLeft) {
      p.presence =
          p.role == Role::kCitizen
              ? (p.before_disconnect == Presence::kInRoom ? Presence::kInRoom : Presence::kLobby)
              : Presence::kInRoom;
    }
    p.last_seen = now;
    Emit(now, "rejoined", id, std::string(PresenceName(p.presence)));
    return id;
  }
  Participant p;
  p.id = absl::StrCat("p", next_participant_++);
  p.subject = subject;
  p.role = role;
  p.unit = unit;
  p.presence = role == Role::kCitizen ? Presence::kLobby : Presence::kInRoom;
  p.last_seen = now;
  const std::string id = p.id;
  participants_[id] = std::move(p);
  Emit(now, "joined", id,
       absl::StrCat(RoleName(role), " from ", unit, role == Role::kCitizen ? " (lobby)" : ""));
  return id;
}

absl::Status Room::Leave(const std::string& id, absl::Time now) {
  auto p = Find(id);
  if (!p.ok()) return p.status();
  if (floor_ == id) floor_.reset();
  hand_order_.erase(std::remove(hand_order_.begin(), hand_order_.end(), id), hand_order_.end());
  (*p)->hand_raised = false;
  (*p)->before_disconnect = (*p)->presence;
  (*p)->presence = Presence::kLeft;
  Emit(now, "left", id);
  return absl::OkStatus();
}

absl::Status Room::Admit(const std::string& actor, const std::string& id, absl::Time now) {
  if (auto s = RequireOpen(); !s.ok()) return s;
  if (auto s = RequireModerator(actor); !s.ok()) return s;
  auto p = Find(id);
  if (!p.ok()) return p.status();
  if ((*p)->presence != Presence::kLobby) {
    return absl::FailedPreconditionError(
        absl::StrCat(id, " is not waiting in the lobby (", PresenceName((*p)->presence), ")"));
  }
  (*p)->presence = Presence::kInRoom;
  Emit(now, "admitted", id, absl::StrCat("by ", actor));
  return absl::OkStatus();
}

absl::Status Room::SendToLobby(const std::string& actor, const std::string& id, absl::Time now) {
  if (auto s = RequireOpen(); !s.ok()) return s;
  if (auto s = RequireModerator(actor); !s.ok()) return s;
  auto p = Find(id);
  if (!p.ok()) return p.status();
  if ((*p)->role != Role::kCitizen || (*p)->presence != Presence::kInRoom) {
    return absl::FailedPreconditionError(absl::StrCat(id, " is not a citizen in the room"));
  }
  if (floor_ == id) floor_.reset();
  hand_order_.erase(std::remove(hand_order_.begin(), hand_order_.end(), id), hand_order_.end());
  (*p)->hand_raised = false;
  (*p)->presence = Presence::kLobby;
  Emit(now, "sent_to_lobby", id, absl::StrCat("by ", actor));
  return absl::OkStatus();
}

absl::Status Room::RaiseHand(const std::string& id, bool raised, absl::Time now) {
  if (auto s = RequireOpen(); !s.ok()) return s;
  auto p = Find(id);
  if (!p.ok()) return p.status();
  if ((*p)->role != Role::kCitizen || !Present(**p)) {
    return absl::FailedPreconditionError("only a citizen in the room may raise a hand");
  }
  if ((*p)->hand_raised == raised) return absl::OkStatus();
  (*p)->hand_raised = raised;
  if (raised) {
    hand_order_.push_back(id);
  } else {
    hand_order_.erase(std::remove(hand_order_.begin(), hand_order_.end(), id), hand_order_.end());
  }
  Emit(now, raised ? "hand_raised" : "hand_lowered", id);
  return absl::OkStatus();
}

absl::Status Room::GrantFloor(const std::string& actor, const std::string& id, absl::Time now) {
  if (auto s = RequireOpen(); !s.ok()) return s;
  if (auto s = RequireModerator(actor); !s.ok()) return s;
  auto p = Find(id);
  if (!p.ok()) return p.status();
  if ((*p)->role != Role::kCitizen || !Present(**p)) {
    return absl::FailedPreconditionError(absl::StrCat(id, " is not a citizen in the room"));
  }
  if (floor_ && *floor_ != id) {
    return absl::FailedPreconditionError(absl::StrCat(
        *floor_,
        " holds the floor; revoke it or wait for its release (one citizen speaks at a time)"));
  }
  floor_ = id;
  (*p)->hand_raised = false;
  (*p)->muted = false;
  hand_order_.erase(std::remove(hand_order_.begin(), hand_order_.end(), id), hand_order_.end());
  Emit(now, "floor_granted", id, absl::StrCat("by ", actor));
  return absl::OkStatus();
}

absl::Status Room::ReleaseFloor(const std::string& id, absl::Time now) {
  if (floor_ != id)
    return absl::FailedPreconditionError(
        absl::StrCat(id.substr(0, 32), " does not hold the floor"));
  floor_.reset();
  Emit(now, "floor_released", id);
  return absl::OkStatus();
}

absl::Status Room::RevokeFloor(const std::string& actor, absl::Time now) {
  if (auto s = RequireModerator(actor); !s.ok()) return s;
  if (!floor_) return absl::FailedPreconditionError("nobody holds the floor");
  const std::string holder = *floor_;
  floor_.reset();
  Emit(now, "floor_revoked", holder, absl::StrCat("by ", actor));
  return absl::OkStatus();
}

absl::Status Room::Mute(const std::string& actor, const std::string& id, bool muted,
                        absl::Time now) {
  if (auto s = RequireModerator(actor); !s.ok()) return s;
  auto p = Find(id);
  if (!p.ok()) return p.status();
  (*p)->muted = muted;
  Emit(now, muted ? "muted" : "unmuted", id, absl::StrCat("by ", actor));
  return absl::OkStatus();
}

absl::Status Room::Remove(const std::string& actor, const std::string& id, absl::Time now) {
  if (auto s = RequireModerator(actor); !s.ok()) return s;
  if (actor == id)
    return absl::FailedPreconditionError("a moderator cannot remove themselves; leave instead");
  auto p = Find(id);
  if (!p.ok()) return p.status();
  if (floor_ == id) floor_.reset();
  hand_order_.erase(std::remove(hand_order_.begin(), hand_order_.end(), id), hand_order_.end());
  (*p)->presence = Presence::kRemoved;
  Emit(now, "removed", id, absl::StrCat("by ", actor));
  return absl::OkStatus();
}

absl::Status Room::SetRecordingConsent(const std::string& id, bool consent, absl::Time now) {
  auto p = Find(id);
  if (!p.ok()) return p.status();
  if ((*p)->role != Role::kCitizen)
    return absl::FailedPreconditionError("recording consent is a citizen's");
  (*p)->recording_consent = consent;
  Emit(now, consent ? "consent_given" : "consent_withdrawn", id);
  if (!consent && recording_) {
    recording_ = false;
    Emit(now, "recording_stopped", "", absl::StrCat(id, " withdrew consent"));
  }
  return absl::OkStatus();
}

absl::Status Room::StartRecording(const std::string& actor, absl::Time now) {
  if (auto s = RequireOpen(); !s.ok()) return s;
  if (auto s = RequireModerator(actor); !s.ok()) return s;
  if (recording_) return absl::FailedPreconditionError("the room is already being recorded");
  std::vector<std::string> missing;
  for (const auto& [id, p] : participants_) {
    if (p.role == Role::kCitizen && Present(p) && !p.recording_consent) missing.push_back(id);
  }
  if (!missing.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("recording needs the consent of every citizen present; missing: ",
                     absl::StrJoin(missing, ", ")));
  }
  recording_ = true;
  Emit(now, "recording_started", "", absl::StrCat("by ", actor));
  return absl::OkStatus();
}

absl::Status Room::StopRecording(const std::string& actor, absl::Time now) {
  if (auto s = RequireModerator(actor); !s.ok()) return s;
  if (!recording_) return absl::FailedPreconditionError("the room is not being recorded");
  recording_ = false;
  Emit(now, "recording_stopped", "", absl::StrCat("by ", actor));
  return absl::OkStatus();
}

absl::Status Room::Heartbeat(const std::string& id, absl::Time now) {
  auto p = Find(id);
  if (!p.ok()) return p.status();
  if ((*p)->presence == Presence::kDisconnected || (*p)->presence == Presence::kRemoved ||
      (*p)->presence == Presence::kLeft) {
    return absl::FailedPreconditionError(
        absl::StrCat(id, " is ", PresenceName((*p)->presence), "; join again"));
  }
  (*p)->last_seen = now;
  return absl::OkStatus();
}

std::vector<std::string> Room::Silent(absl::Time now, absl::Duration timeout) const {
  std::vector<std::string> out;
  for (const auto& [id, p] : participants_) {
    if ((p.presence == Presence::kInRoom || p.presence == Presence::kLobby) &&
        now - p.last_seen > timeout) {
      out.push_back(id);
    }
  }
  return out;
}

absl::Status Room::Disconnect(const std::string& id, absl::Time now, absl::string_view reason) {
  auto found = Find(id);
  if (!found.ok()) return found.status();
  Participant& p = **found;
  if (p.presence != Presence::kInRoom && p.presence != Presence::kLobby) {
    return absl::FailedPreconditionError(
        absl::StrCat(id, " is already ", PresenceName(p.presence)));
  }
  if (floor_ == id) floor_.reset();
  hand_order_.erase(std::remove(hand_order_.begin(), hand_order_.end(), id), hand_order_.end());
  p.hand_raised = false;
  p.before_disconnect = p.presence;
  p.presence = Presence::kDisconnected;
  Emit(now, "disconnected", id, std::string(reason));
  return absl::OkStatus();
}

void Room::ExpireSilent(absl::Time now, absl::Duration timeout) {
  for (const auto& id : Silent(now, timeout)) (void)Disconnect(id, now);
}

absl::StatusOr<std::vector<RoomEvent>> Room::EventsAfter(int64_t after) const {
  if (!events_.empty() && after + 1 < events_.front().sequence) {
    return absl::OutOfRangeError(absl::StrCat(
        "events after ", after, " are no longer kept; the oldest is ", events_.front().sequence));
  }
  std::vector<RoomEvent> out;
  for (const auto& e : events_) {
    if (e.sequence > after) out.push_back(e);
  }
  return out;
}

absl::Status Room::UpdateMinutes(const std::string& actor, MinutesDraft draft, absl::Time now) {
  if (auto s = RequireModerator(actor); !s.ok()) return s;
  if (minutes_.locked) {
    return absl::FailedPreconditionError(
        "the minutes are signed by everyone and locked; they cannot change");
  }
  // One limit for the minutes, checked here at the edit: what is signed must
  // be what the cases accept (AttachCaseMinutes), or it would never reach them.
  auto text = [](absl::string_view value, const std::string& field, size_t max_chars,
                 bool multiline) {
    if (!IsValidUtf8(value) || HasControlCharacters(value, multiline)) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, " must be UTF-8 text without control characters"));
    }
    if (CodePointCount(value) > max_chars) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, " must be at most ", max_chars, " characters"));
    }
    return absl::OkStatus();
  };
  if (draft.cases.size() > kMaxMinutesCases) {
    return absl::InvalidArgumentError(
        absl::StrCat("minutes.cases must list at most ", kMaxMinutesCases, " cases"));
  }
  if (draft.statements.size() > kMaxMinutesStatements) {
    return absl::InvalidArgumentError(
        absl::StrCat("minutes.statements must have at most ", kMaxMinutesStatements, " entries"));
  }
  if (auto s = text(draft.place, "minutes.place", 200, false); !s.ok()) return s;
  if (auto s = text(draft.conclusions, "minutes.conclusions", 10000, true); !s.ok()) return s;
  for (size_t i = 0; i < draft.statements.size(); ++i) {
    if (auto s = text(draft.statements[i].summary,
                      absl::StrCat("minutes.statements[", i, "].summary"), 4000, true);
        !s.ok()) {
      return s;
    }
  }
  for (size_t i = 0; i < draft.statements.size(); ++i) {
    auto p = Find(draft.statements[i].participant);
    if (!p.ok() || (*p)->role != Role::kCitizen) {
      return absl::InvalidArgumentError(
          absl::StrCat("minutes.statements[", i, "].participant must be a citizen of ", name_));
    }
  }
  for (size_t i = 0; i < draft.cases.size(); ++i) {
    if (draft.cases[i].rfind("cases/", 0) != 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("minutes.cases[", i, "] must be cases/{number}"));
    }
  }
  {
    // The text the signatures will lock, with this draft.
    MinutesDraft previous = std::move(minutes_.draft);
    minutes_.draft = draft;
    const size_t rendered = RenderMinutes().size();
    minutes_.draft = std::move(previous);
    if (rendered > kMaxMinutesBytes) {
      return absl::InvalidArgumentError(absl::StrCat("minutes would be ", rendered,
                                                     " bytes as signed; at most ", kMaxMinutesBytes,
                                                     " are allowed"));
    }
  }
  const bool had_signatures = !minutes_.signatures.empty();
  minutes_.draft = std::move(draft);
  minutes_.signatures.clear();
  Emit(now, "minutes_updated", actor, had_signatures ? "signatures cleared: sign again" : "");
  return absl::OkStatus();
}

std::vector<std::string> Room::MissingSignatures() const {
  std::vector<std::string> required;
  for (const auto& [id, p] : participants_) {
    if (p.role == Role::kPresiding && p.presence != Presence::kRemoved) required.push_back(id);
  }
  for (const auto& st : minutes_.draft.statements) required.push_back(st.participant);
  std::vector<std::string> missing;
  for (const auto& id : required) {
    if (!minutes_.signatures.count(id) &&
        std::find(missing.begin(), missing.end(), id) == missing.end()) {
      missing.push_back(id);
    }
  }
  return missing;
}

absl::Status Room::SignMinutes(const std::string& id, absl::Time now) {
  auto p = Find(id);
  if (!p.ok()) return p.status();
  if (minutes_.locked) return absl::FailedPreconditionError("the minutes are already locked");
  if (minutes_.draft.conclusions.empty()) {
    return absl::FailedPreconditionError("the minutes have no conclusions yet; nothing to sign");
  }
  const std::vector<std::string> missing = MissingSignatures();
  if (std::find(missing.begin(), missing.end(), id) == missing.end()) {
    return absl::FailedPreconditionError(absl::StrCat(
        id,
        " is not asked to sign: the presiding official and each citizen with a statement sign"));
  }
  minutes_.signatures[id] = now;
  Emit(now, "minutes_signed", id);
  if (MissingSignatures().empty()) {
    minutes_.locked = true;
    minutes_.locked_at = now;
    minutes_.locked_text = RenderMinutes();
    Emit(now, "minutes_locked", "");
  }
  return absl::OkStatus();
}

std::string Room::RenderMinutes() const {
  const absl::TimeZone vn = absl::FixedTimeZone(7 * 3600);
  auto when = [&](absl::Time t) { return absl::FormatTime("%Y-%m-%d %H:%M", t, vn); };
  std::string out = absl::StrCat("BIÊN BẢN TIẾP CÔNG DÂN TRỰC TUYẾN (", name_, ")\n");
  absl::StrAppend(&out, "Thời gian: ", opened_at_ == absl::Time() ? "-" : when(opened_at_), " - ",
                  closed_at_ == absl::Time() ? "-" : when(closed_at_), "\n");
  absl::StrAppend(&out, "Địa điểm: ", minutes_.draft.place,
                  " (điểm cầu chủ trì: ", setup_.host_unit, ")\n");
  absl::StrAppend(&out, "Thành phần:\n");
  for (const auto& [id, p] : participants_) {
    if (p.role == Role::kSite) continue;
    absl::StrAppend(&out, "  - ", id, " ", RoleName(p.role), " tại điểm cầu ", p.unit, "\n");
  }
  // Each citizen's consent to recording, as it stood when the minutes were
  // rendered (L136: recording needs it).
  std::vector<std::string> consents;
  for (const auto& [id, p] : participants_) {
    if (p.role != Role::kCitizen) continue;
    consents.push_back(absl::StrCat(id, p.recording_consent ? " đồng ý" : " không đồng ý"));
  }
  if (!consents.empty()) {
    absl::StrAppend(&out, "Đồng ý ghi âm, ghi hình: ", absl::StrJoin(consents, "; "), "\n");
  }
  absl::StrAppend(&out, "Vụ việc: ", absl::StrJoin(ConcernedCases(), ", "), "\n");
  for (const auto& st : minutes_.draft.statements) {
    absl::StrAppend(&out, "Ý kiến của ", st.participant, ": ", st.summary, "\n");
  }
  absl::StrAppend(&out, "Kết luận của người chủ trì: ", minutes_.draft.conclusions, "\n");
  for (const auto& [id, t] : minutes_.signatures)
    absl::StrAppend(&out, "Ký: ", id, " lúc ", when(t), "\n");
  return out;
}

}  // namespace reception::media
