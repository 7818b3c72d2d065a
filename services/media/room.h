// The rules of an online reception room, transport-free: who is in the room
// or the lobby, who holds the floor, who is present, when recording may run,
// and the event log (in order, numbered, for a resumable stream). One Room is
// used under one lock by its owner (the media service); time is passed in.
#ifndef RECEPTION_SERVICES_MEDIA_ROOM_H_
#define RECEPTION_SERVICES_MEDIA_ROOM_H_

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace reception::media {

enum class Role { kPresiding, kOfficer, kCitizen, kInterpreter, kObserver, kSite };
// Bounds on a draft of minutes (with the rendered size, kMaxMinutesBytes).
inline constexpr size_t kMaxMinutesCases = 20;
inline constexpr size_t kMaxMinutesStatements = 100;

enum class RoomState { kScheduled, kOpen, kClosed };
enum class Presence { kLobby, kInRoom, kDisconnected, kRemoved, kLeft };

// "presiding" -> kPresiding; INVALID_ARGUMENT for anything else.
absl::StatusOr<Role> ParseRole(absl::string_view role);
absl::string_view RoleName(Role role);
absl::string_view PresenceName(Presence presence);

struct Participant {
  std::string id;       // "p1", "p2", ... in joining order
  std::string subject;  // who: a rejoin with the same subject is the same participant
  Role role;
  std::string unit;  // the site (bridge point) attended from
  Presence presence = Presence::kLobby;
  Presence before_disconnect = Presence::kLobby;
  bool muted = false;
  bool hand_raised = false;
  bool recording_consent = false;
  absl::Time last_seen;
};

// The minutes (biên bản) of a room: drafted during it, signed by the
// presiding official and each citizen concerned (one with a statement), then
// locked.
struct Statement {
  std::string participant;  // a citizen's participant id
  std::string summary;
};
struct MinutesDraft {
  std::string place;
  std::vector<std::string> cases;  // "cases/{number}" discussed
  std::vector<Statement> statements;
  std::string conclusions;  // the presiding official's
};
struct Minutes {
  MinutesDraft draft;
  std::map<std::string, absl::Time> signatures;  // participant id -> when
  bool locked = false;
  absl::Time locked_at;
  std::string locked_text;  // RenderMinutes() when the last signature locked them
};

// What a room is for, fixed when it is created.
struct BridgeSite {
  std::string unit;
  std::string sip_uri;  // the site's conference equipment, if it is a SIP endpoint
};
struct RoomSetup {
  std::string host_unit;
  std::string session;                    // the reception session it serves
  std::vector<std::string> agenda_cases;  // "cases/{number}"
  std::vector<BridgeSite> bridges;
};

// Locked minutes attached (or not) to one case concerned.
enum class AttachmentState { kPending, kAttached, kFailed };
struct Attachment {
  AttachmentState state = AttachmentState::kPending;
  std::string detail;
};

struct RoomEvent {
  int64_t sequence = 0;
  absl::Time time;
  std::string kind;         // "joined", "admitted", "floor_granted", ...
  std::string participant;  // participant id, when about one
  std::string detail;
};

class Room {
 public:
  Room(std::string name, RoomSetup setup, absl::Time now);

  const std::string& name() const { return name_; }
  const RoomSetup& setup() const { return setup_; }
  // A bridge point taking part, or nullptr.
  const BridgeSite* Bridge(absl::string_view unit) const;
  RoomState state() const { return state_; }
  const std::map<std::string, Participant>& participants() const { return participants_; }
  // The citizen holding the floor, if any.
  const std::optional<std::string>& floor() const { return floor_; }
  // Raised hands, oldest first (what the presiding official sees).
  std::vector<std::string> HandQueue() const;
  bool recording() const { return recording_; }

  absl::Status Open(absl::Time now);
  absl::Status Close(absl::Time now);

  // Joins (or rejoins, same subject) an open room. Citizens wait in the
  // lobby until admitted; everyone else enters. Returns the participant id.
  absl::StatusOr<std::string> Join(const std::string& subject, Role role, const std::string& unit,
                                   absl::Time now);
  absl::Status Leave(const std::string& id, absl::Time now);
  // By the presiding official or an officer:
  absl::Status Admit(const std::string& actor, const std::string& id, absl::Time now);
  absl::Status SendToLobby(const std::string& actor, const std::string& id, absl::Time now);
  absl::Status GrantFloor(const std::string& actor, const std::string& id, absl::Time now);
  absl::Status RevokeFloor(const std::string& actor, absl::Time now);
  absl::Status Mute(const std::string& actor, const std::string& id, bool muted, absl::Time now);
  absl::Status Remove(const std::string& actor, const std::string& id, absl::Time now);
  absl::Status StartRecording(const std::string& actor, absl::Time now);
  absl::Status StopRecording(const std::string& actor, absl::Time now);
  // By the participant:
  absl::Status RaiseHand(const std::string& id, bool raised, absl::Time now);
  absl::Status ReleaseFloor(const std::string& id, absl::Time now);
  // A citizen's consent to recording; withdrawing it stops a recording.
  absl::Status SetRecordingConsent(const std::string& id, bool consent, absl::Time now);
  absl::Status Heartbeat(const std::string& id, absl::Time now);

  // Minutes. Drafting (presiding official or officer) clears signatures
  // already given; refused once locked. Statements must be citizens'.
  absl::Status UpdateMinutes(const std::string& actor, MinutesDraft draft, absl::Time now);
  // By the presiding official or a citizen with a statement; the minutes
  // lock when every one of them has signed.
  absl::Status SignMinutes(const std::string& id, absl::Time now);
  const Minutes& minutes() const { return minutes_; }
  // Who still has to sign.
  std::vector<std::string> MissingSignatures() const;
  // The minutes as text for the cases' files: time, place, attendees and
  // their sites, cases, statements, conclusions, signatures.
  std::string RenderMinutes() const;
  // The cases the minutes concern: the agenda's, then those the minutes
  // name, each once.
  std::vector<std::string> ConcernedCases() const;
  // Once the minutes are locked: each case concerned (the agenda's and those
  // the minutes name) and whether they are attached to it yet.
  std::map<std::string, Attachment> Attachments() const;
  // The case service's answer for one of them (attached or refused).
  absl::Status RecordAttachment(const std::string& case_name, bool attached, std::string detail,
                                absl::Time now);

  // Participants silent for longer than `timeout` (present or in the lobby).
  std::vector<std::string> Silent(absl::Time now, absl::Duration timeout) const;
  // Marks one disconnected (its floor is released); it comes back by joining
  // again.
  absl::Status Disconnect(const std::string& id, absl::Time now,
                          absl::string_view reason = "no heartbeat");
  // Both of the above for everyone silent.
  void ExpireSilent(absl::Time now, absl::Duration timeout);

  // Events with a sequence above `after`, oldest first. OUT_OF_RANGE when
  // `after` is older than the oldest kept (the log keeps `kept` events).
  absl::StatusOr<std::vector<RoomEvent>> EventsAfter(int64_t after) const;
  int64_t last_sequence() const { return next_sequence_ - 1; }

 private:
  absl::StatusOr<Participant*> Find(const std::string& id);
  absl::Status RequireModerator(const std::string& actor);
  absl::Status RequireOpen() const;
  void Emit(absl::Time now, std::string kind, std::string participant, std::string detail = "");

  std::string name_;
  RoomSetup setup_;
  std::map<std::string, Attachment> attachments_;  // recorded answers
  RoomState state_ = RoomState::kScheduled;
  std::map<std::string, Participant> participants_;
  std::vector<std::string> hand_order_;
  std::optional<std::string> floor_;
  bool recording_ = false;
  Minutes minutes_;
  absl::Time opened_at_, closed_at_;
  std::deque<RoomEvent> events_;
  int64_t next_sequence_ = 1;
  int next_participant_ = 1;
  static constexpr size_t kKeptEvents = 10000;
};

}  // namespace reception::media

#endif  // RECEPTION_SERVICES_MEDIA_ROOM_H_
