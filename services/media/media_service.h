// The media service's gRPC edge and node module: rooms held by the durable
// RoomRegistry, join tokens, and the media backend (none or Janus). Calls to
// the media server (blocking HTTP) run on a small pool, never on a reactor
// thread; a background thread marks silent participants disconnected.
#ifndef RECEPTION_SERVICES_MEDIA_MEDIA_SERVICE_H_
#define RECEPTION_SERVICES_MEDIA_MEDIA_SERVICE_H_

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "prometheus/collectable.h"
#include "reception/federation/v1/case_federation.grpc.pb.h"
#include "reception/media/v1/media_service.grpc.pb.h"
#include "services/common/auth.h"
#include "services/common/node_runtime.h"
#include "services/common/outbox.h"
#include "services/common/store.h"
#include "services/common/topology.h"
#include "services/common/work_pool.h"
#include "services/media/bridge.h"
#include "services/media/join_token.h"
#include "services/media/media_backend.h"
#include "services/media/room_registry.h"
#include "services/media/room_service.h"
#include "services/media/room_watch.h"

namespace reception::media {

class MediaGrpcService final : public v1::MediaService::CallbackService {
 public:
  struct Deps {
    RoomRegistry* rooms = nullptr;
    const JoinTokenSigner* signer = nullptr;
    MediaBackend* backend = nullptr;
    const Authenticator* auth = nullptr;
    const Clock* clock = nullptr;
    WorkPool* pool = nullptr;  // media-server calls
    std::string unit_code;
    RoomWatchers* watchers = nullptr;    // open WatchRoom streams
    BridgeLinks* bridges = nullptr;      // rooms hosted elsewhere (may be null)
    const Topology* topology = nullptr;  // checks bridge units (may be null)
    // How long a participant's call relayed to the room's host may take: a
    // person is waiting in the room (half the heartbeat timeout, 1-5 s).
    absl::Duration relay_deadline = absl::Seconds(5);
  };
  // Without `watchers`, the service keeps its own and listens to the rooms.
  explicit MediaGrpcService(Deps deps);

  using Ctx = grpc::CallbackServerContext;
  using Reactor = grpc::ServerUnaryReactor;

  Reactor* CreateRoom(Ctx*, const v1::CreateRoomRequest*, v1::Room*) override;
  Reactor* GetRoom(Ctx*, const v1::GetRoomRequest*, v1::Room*) override;
  Reactor* IssueJoinToken(Ctx*, const v1::IssueJoinTokenRequest*, v1::JoinToken*) override;
  Reactor* JoinRoom(Ctx*, const v1::JoinRoomRequest*, v1::JoinRoomResponse*) override;
  Reactor* ListRoomEvents(Ctx*, const v1::ListRoomEventsRequest*,
                          v1::ListRoomEventsResponse*) override;
  Reactor* OpenRoom(Ctx*, const v1::OpenRoomRequest*, v1::Room*) override;
  Reactor* CloseRoom(Ctx*, const v1::CloseRoomRequest*, v1::Room*) override;
  Reactor* LeaveRoom(Ctx*, const v1::LeaveRoomRequest*, v1::Room*) override;
  Reactor* Heartbeat(Ctx*, const v1::HeartbeatRequest*, v1::Room*) override;
  Reactor* AdmitParticipant(Ctx*, const v1::AdmitParticipantRequest*, v1::Room*) override;
  Reactor* SendToLobby(Ctx*, const v1::SendToLobbyRequest*, v1::Room*) override;
  Reactor* RaiseHand(Ctx*, const v1::RaiseHandRequest*, v1::Room*) override;
  Reactor* GrantFloor(Ctx*, const v1::GrantFloorRequest*, v1::Room*) override;
  Reactor* ReleaseFloor(Ctx*, const v1::ReleaseFloorRequest*, v1::Room*) override;
  Reactor* RevokeFloor(Ctx*, const v1::RevokeFloorRequest*, v1::Room*) override;
  Reactor* MuteParticipant(Ctx*, const v1::MuteParticipantRequest*, v1::Room*) override;
  Reactor* RemoveParticipant(Ctx*, const v1::RemoveParticipantRequest*, v1::Room*) override;
  Reactor* SetRecordingConsent(Ctx*, const v1::SetRecordingConsentRequest*, v1::Room*) override;
  Reactor* StartRecording(Ctx*, const v1::StartRecordingRequest*, v1::Room*) override;
  Reactor* StopRecording(Ctx*, const v1::StopRecordingRequest*, v1::Room*) override;
  Reactor* UpdateMinutes(Ctx*, const v1::UpdateMinutesRequest*, v1::Room*) override;
  Reactor* SignMinutes(Ctx*, const v1::SignMinutesRequest*, v1::Room*) override;
  Reactor* ConnectBridge(Ctx*, const v1::ConnectBridgeRequest*, v1::Room*) override;
  grpc::ServerWriteReactor<v1::RoomEvent>* WatchRoom(Ctx*, const v1::WatchRoomRequest*) override;

  // The room's events after `after` (hosted here or mirrored from a host).
  absl::StatusOr<EventBatch> Fetch(const std::string& name, int64_t after, int limit) const;
  // A participant's last open watch stream ended: a bridge site is then
  // disconnected (its link is down until it rejoins).
  void StreamEnded(const std::string& name, const std::string& participant);
  RoomWatchers* watchers() const { return d_.watchers; }
  // The rules this edge calls (transport-free).
  RoomService& room_service() { return rooms_; }

 private:
  // A participant's call: authenticates, then the room service checks the
  // caller is that participant, fills and applies the operation.
  Reactor* Act(Ctx* ctx, const std::string& name, const std::string& participant, v1::Room* resp,
               const std::function<void(internal::RoomOp&)>& fill,
               std::function<void()> after = nullptr);
  Reactor* OpenOrClose(Ctx* ctx, const std::string& name, const std::string& etag, v1::Room* resp,
                       bool open);
  // For a room hosted elsewhere that this unit bridges: the call goes to the
  // host with the caller's identity, and its answer comes back (nullptr when
  // the room is hosted here).
  template <typename Req, typename Resp>
  Reactor* Relay(Ctx* ctx, const std::string& name, const Req& req, Resp* resp,
                 void (v1::MediaService::Stub::async::*method)(grpc::ClientContext*, const Req*,
                                                               Resp*,
                                                               std::function<void(grpc::Status)>));
  Deps d_;
  RoomService rooms_;
  std::unique_ptr<RoomWatchers> own_watchers_;
};

class MediaModule final : public ServiceModule {
 public:
  static absl::StatusOr<std::unique_ptr<ServiceModule>> Create(const NodeContext& context);
  ~MediaModule() override;
  grpc::Service* service() override { return service_.get(); }
  std::string service_name() const override { return "reception.media.v1.MediaService"; }
  bool ready() const override { return store_ && store_->healthy(); }
  // Rooms by state, participants of open rooms by presence, watch streams,
  // bridge links by host and state, minutes waiting to be attached.
  std::vector<std::shared_ptr<prometheus::Collectable>> collectables() const override {
    return {gauges_, Outbox::AllMetrics()};
  }

 private:
  MediaModule() = default;
  void ExpireLoop(absl::Duration timeout);
  // Queues, in the write that locks a room's minutes, one outbox item per
  // case they concern ("m/{room}/{case}", an AttachCaseMinutesRequest).
  void QueueAttachments(const Room& room, WriteTxn& txn);
  // The minutes outbox's Deliver: AttachCaseMinutes at this node's case
  // service; and its Settle: the answer recorded on the room.
  void SendMinutes(const Outbox::Item& item, absl::AnyInvocable<void(Outbox::Answer)> answer);
  absl::Status SettleMinutes(const Outbox::Item& item, const Outbox::Answer& answer, WriteTxn& txn);
  const Clock* clock_ = nullptr;
  std::string unit_code_;
  std::string in_process_secret_;
  std::function<std::shared_ptr<grpc::Channel>()> case_channel_;
  absl::Mutex cases_mu_;
  std::shared_ptr<federation::v1::CaseFederationService::Stub> cases_ ABSL_GUARDED_BY(cases_mu_);
  std::unique_ptr<Outbox> minutes_;
  std::unique_ptr<RoomWatchers> watchers_;
  std::unique_ptr<BridgeLinks> bridges_;
  std::shared_ptr<prometheus::Collectable> gauges_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<RoomRegistry> rooms_;
  std::unique_ptr<JoinTokenSigner> signer_;
  std::unique_ptr<MediaBackend> backend_;
  std::unique_ptr<WorkPool> pool_;
  std::unique_ptr<MediaGrpcService> service_;
  absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread expire_;
};

}  // namespace reception::media

#endif  // RECEPTION_SERVICES_MEDIA_MEDIA_SERVICE_H_
