// The media service without its transport: who may create, open, close and
// join a room, the validation of bridges and SIP addresses, join tokens and
// their authorisation, a participant acting only as itself, the media
// server's rooms derived from ours (opened before a room opens, closed after
// it closes, a removed participant kicked), the durable events readers may
// see, and recovery after a restart. The gRPC class (media_service.h) keeps
// authentication, relaying to a room's host and status mapping; tests call
// this class directly.
#ifndef RECEPTION_SERVICES_MEDIA_ROOM_SERVICE_H_
#define RECEPTION_SERVICES_MEDIA_ROOM_SERVICE_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "reception/media/v1/media_service.pb.h"
#include "services/common/clock.h"
#include "services/common/principal.h"
#include "services/common/topology.h"
#include "services/common/work_pool.h"
#include "services/media/join_token.h"
#include "services/media/media_backend.h"
#include "services/media/room_registry.h"

namespace reception::media {

// A room's events after a sequence, and whether no more will come (the room
// is closed and everything up to its close has been read).
struct EventBatch {
  std::vector<v1::RoomEvent> events;
  bool ended = false;
};

class RoomService {
 public:
  struct Deps {
    RoomRegistry* rooms = nullptr;
    const JoinTokenSigner* signer = nullptr;
    MediaBackend* backend = nullptr;
    const Clock* clock = nullptr;
    WorkPool* pool = nullptr;  // media-server calls (blocking HTTP)
    std::string unit_code;
    const Topology* topology = nullptr;  // checks bridge units (may be null)
  };
  template <typename T>
  using Callback = absl::AnyInvocable<void(absl::StatusOr<T>)>;
  using Fill = std::function<void(internal::RoomOp&)>;

  explicit RoomService(Deps deps) : d_(std::move(deps)) {}

  // INVALID_ARGUMENT unless `name` is rooms/{room_id}.
  static absl::Status ValidRoomName(absl::string_view name);

  // The room as the API shows it (durable state).
  absl::StatusOr<v1::Room> View(const std::string& name) const;
  // Durable events of a room hosted here after `after`, at most `limit`.
  absl::StatusOr<EventBatch> Events(const std::string& name, int64_t after, int limit) const;

  void CreateRoom(const Principal& p, const v1::CreateRoomRequest& r, Callback<v1::Room> done);
  absl::StatusOr<v1::JoinToken> IssueJoinToken(const Principal& p,
                                               const v1::IssueJoinTokenRequest& r) const;
  // Joins with a token issued to the caller; the answer carries the media
  // server's access once it let the participant in.
  void JoinRoom(const Principal& p, const v1::JoinRoomRequest& r,
                Callback<v1::JoinRoomResponse> done);
  // `participant` acting (it must be the caller); `fill` sets the operation.
  // `after` runs once the operation is durable.
  void Act(const Principal& p, const std::string& name, const std::string& participant,
           const Fill& fill, Callback<v1::Room> done, std::function<void()> after = nullptr);
  // Removes `target`, and kicks it from the media room once durable.
  void RemoveParticipant(const Principal& p, const v1::RemoveParticipantRequest& r,
                         Callback<v1::Room> done);
  // The media server's room first when opening, last when closing.
  // `etag` (optional): Room.etag as read; ABORTED (ETAG_MISMATCH) when the
  // room changed since.
  void OpenOrClose(const Principal& p, const std::string& name, bool open, const std::string& etag,
                   Callback<v1::Room> done);

  // Who may watch: the participant a site watches under (its presence then
  // follows the stream), or "" for a plain watcher.
  absl::StatusOr<std::string> CheckWatch(const Principal& p, const v1::WatchRoomRequest& r) const;
  // A site's last stream ended: it is disconnected if still present.
  void StreamEnded(const std::string& name, const std::string& participant);
  // Whether this node's staff may connect it as a bridge to `r`'s host.
  absl::Status CheckConnectBridge(const Principal& p, const v1::ConnectBridgeRequest& r) const;
  // After a restart no bridge's stream survived: bridge sites present in
  // open rooms are disconnected until their nodes rejoin.
  void DisconnectBridgeSites(absl::Time now);

  // The media server's room for `room` and a participant's id there,
  // derived from the node's key.
  MediaRoom MediaRoomFor(const std::string& room) const;
  uint64_t MediaParticipantId(const std::string& room, const std::string& subject) const;

 private:
  void ApplyAndView(internal::RoomOp op, Callback<v1::Room> done,
                    std::function<void()> after = nullptr);

  Deps d_;
};

// A room and an event as the API shows them.
v1::Room ToProto(const Room& room);
v1::RoomEvent ToProto(const RoomEvent& event);

}  // namespace reception::media

#endif  // RECEPTION_SERVICES_MEDIA_ROOM_SERVICE_H_
