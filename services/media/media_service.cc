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

// Answers at once with `s`.
grpc::ServerUnaryReactor* Finish(grpc::CallbackServerContext* ctx, const absl::Status& s) {
  auto* reactor = ctx->DefaultReactor();
  reactor->Finish(ToGrpcStatus(s));
  return reactor;
}

}  // namespace

MediaGrpcService::MediaGrpcService(Deps deps)
    : d_(std::move(deps)),
      rooms_({d_.rooms, d_.signer, d_.backend, d_.clock, d_.pool, d_.unit_code, d_.topology}) {
  if (d_.watchers == nullptr) {
    own_watchers_ = std::make_unique<RoomWatchers>();
    d_.watchers = own_watchers_.get();
    d_.rooms->SetListener([w = d_.watchers](const std::string& room) { w->Notify(room); });
  }
}

absl::StatusOr<EventBatch> MediaGrpcService::Fetch(const std::string& name, int64_t after,
                                                   int limit) const {
  if (d_.bridges != nullptr && d_.bridges->IsBridged(name)) {
    return d_.bridges->Events(name, after, limit);
  }
  return rooms_.Events(name, after, limit);
}

void MediaGrpcService::StreamEnded(const std::string& name, const std::string& participant) {
  rooms_.StreamEnded(name, participant);
}

namespace {

// A reactor that answers with the room service's result.
template <typename T>
absl::AnyInvocable<void(absl::StatusOr<T>)> Answer(grpc::ServerUnaryReactor* reactor, T* resp) {
  return [reactor, resp](absl::StatusOr<T> r) {
    if (r.ok()) *resp = *std::move(r);
    reactor->Finish(ToGrpcStatus(r.status()));
  };
}

}  // namespace

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
  ForwardIdentity(*ctx, "", &call->ctx, d_.relay_deadline);
  auto* reactor = ctx->DefaultReactor();
  (stub->async()->*method)(
      &call->ctx, &call->req, resp, [this, call, reactor, resp, name, host](grpc::Status s) {
        delete call;
        if (s.error_code() == grpc::StatusCode::UNAVAILABLE ||
            s.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
          // With the details every error carries, and the link's own
          // backoff as the delay to retry after.
          s = ToGrpcStatus(WithRetryDelay(
              absl::UnavailableError(absl::StrCat(
                  name, " is hosted by unit ", host, ", which this bridge cannot reach now (",
                  s.error_message().substr(0, 200), "); the bridge rejoins when the link returns")),
              std::max(d_.bridges->RetryIn(name), absl::Seconds(1))));
        } else if (s.ok()) {
          if constexpr (std::is_same_v<Resp, v1::Room>) d_.bridges->Update(name, *resp);
          if constexpr (std::is_same_v<Resp, v1::JoinRoomResponse>)
            d_.bridges->Update(name, resp->room());
        }
        reactor->Finish(s);
      });
  return reactor;
}

grpc::ServerUnaryReactor* MediaGrpcService::CreateRoom(Ctx* ctx, const v1::CreateRoomRequest* req,
                                                       v1::Room* resp) {
  auto p = d_.auth->Authenticate(*ctx);
  if (!p.ok()) return Finish(ctx, p.status());
  if (d_.bridges != nullptr && d_.bridges->IsBridged(absl::StrCat("rooms/", req->room_id()))) {
    return Finish(ctx, absl::AlreadyExistsError(absl::StrCat(
                           "rooms/", req->room_id(),
                           " is a room this node bridges to its host; choose another id")));
  }
  auto* reactor = ctx->DefaultReactor();
  rooms_.CreateRoom(*p, *req, Answer(reactor, resp));
  return reactor;
}

grpc::ServerUnaryReactor* MediaGrpcService::GetRoom(Ctx* ctx, const v1::GetRoomRequest* req,
                                                    v1::Room* resp) {
  auto p = d_.auth->Authenticate(*ctx);
  if (!p.ok()) return Finish(ctx, p.status());
  if (auto s = RoomService::ValidRoomName(req->name()); !s.ok()) return Finish(ctx, s);
  auto view = d_.bridges != nullptr && d_.bridges->IsBridged(req->name())
                  ? d_.bridges->Snapshot(req->name())
                  : rooms_.View(req->name());
  if (view.ok()) *resp = *std::move(view);
  return Finish(ctx, view.status());
}

grpc::ServerUnaryReactor* MediaGrpcService::ListRoomEvents(Ctx* ctx,
                                                           const v1::ListRoomEventsRequest* req,
                                                           v1::ListRoomEventsResponse* resp) {
  auto p = d_.auth->Authenticate(*ctx);
  if (!p.ok()) return Finish(ctx, p.status());
  if (auto s = RoomService::ValidRoomName(req->name()); !s.ok()) return Finish(ctx, s);
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
  last = std::max<int64_t>(
      last, resp->events_size() ? resp->events(resp->events_size() - 1).sequence() : 0);
  resp->set_last_sequence(last);
  return Finish(ctx, absl::OkStatus());
}

grpc::ServerUnaryReactor* MediaGrpcService::IssueJoinToken(Ctx* ctx,
                                                           const v1::IssueJoinTokenRequest* req,
                                                           v1::JoinToken* resp) {
  auto p = d_.auth->Authenticate(*ctx);
  if (!p.ok()) return Finish(ctx, p.status());
  if (auto s = RoomService::ValidRoomName(req->name()); !s.ok()) return Finish(ctx, s);
  if (auto* r = Relay(ctx, req->name(), *req, resp, &v1::MediaService::Stub::async::IssueJoinToken))
    return r;
  auto token = rooms_.IssueJoinToken(*p, *req);
  if (token.ok()) *resp = *std::move(token);
  return Finish(ctx, token.status());
}

grpc::ServerUnaryReactor* MediaGrpcService::JoinRoom(Ctx* ctx, const v1::JoinRoomRequest* req,
                                                     v1::JoinRoomResponse* resp) {
  auto p = d_.auth->Authenticate(*ctx);
  if (!p.ok()) return Finish(ctx, p.status());
  if (auto s = RoomService::ValidRoomName(req->name()); !s.ok()) return Finish(ctx, s);
  if (auto* r = Relay(ctx, req->name(), *req, resp, &v1::MediaService::Stub::async::JoinRoom))
    return r;
  auto* reactor = ctx->DefaultReactor();
  rooms_.JoinRoom(*p, *req, Answer(reactor, resp));
  return reactor;
}

grpc::ServerUnaryReactor* MediaGrpcService::Act(Ctx* ctx, const std::string& name,
                                                const std::string& participant, v1::Room* resp,
                                                const std::function<void(internal::RoomOp&)>& fill,
                                                std::function<void()> after) {
  auto p = d_.auth->Authenticate(*ctx);
  if (!p.ok()) return Finish(ctx, p.status());
  if (auto s = RoomService::ValidRoomName(name); !s.ok()) return Finish(ctx, s);
  auto* reactor = ctx->DefaultReactor();
  rooms_.Act(*p, name, participant, fill, Answer(reactor, resp), std::move(after));
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
  return Act(ctx, req->name(), req->participant(), resp, [req](internal::RoomOp& op) {
    op.set_sign_minutes(true);
    op.set_expected_etag(req->etag());
  });
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

grpc::ServerUnaryReactor* MediaGrpcService::RemoveParticipant(
    Ctx* ctx, const v1::RemoveParticipantRequest* req, v1::Room* resp) {
  if (auto* r =
          Relay(ctx, req->name(), *req, resp, &v1::MediaService::Stub::async::RemoveParticipant))
    return r;
  auto p = d_.auth->Authenticate(*ctx);
  if (!p.ok()) return Finish(ctx, p.status());
  if (auto s = RoomService::ValidRoomName(req->name()); !s.ok()) return Finish(ctx, s);
  auto* reactor = ctx->DefaultReactor();
  rooms_.RemoveParticipant(*p, *req, Answer(reactor, resp));
  return reactor;
}

grpc::ServerUnaryReactor* MediaGrpcService::UpdateMinutes(Ctx* ctx,
                                                          const v1::UpdateMinutesRequest* req,
                                                          v1::Room* resp) {
  if (auto* r = Relay(ctx, req->name(), *req, resp, &v1::MediaService::Stub::async::UpdateMinutes))
    return r;
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
    op.set_expected_etag(req->etag());
  });
}

grpc::ServerUnaryReactor* MediaGrpcService::OpenRoom(Ctx* ctx, const v1::OpenRoomRequest* req,
                                                     v1::Room* resp) {
  if (auto* r = Relay(ctx, req->name(), *req, resp, &v1::MediaService::Stub::async::OpenRoom))
    return r;
  return OpenOrClose(ctx, req->name(), req->etag(), resp, true);
}

grpc::ServerUnaryReactor* MediaGrpcService::CloseRoom(Ctx* ctx, const v1::CloseRoomRequest* req,
                                                      v1::Room* resp) {
  if (auto* r = Relay(ctx, req->name(), *req, resp, &v1::MediaService::Stub::async::CloseRoom))
    return r;
  return OpenOrClose(ctx, req->name(), req->etag(), resp, false);
}

grpc::ServerUnaryReactor* MediaGrpcService::OpenOrClose(Ctx* ctx, const std::string& name,
                                                        const std::string& etag, v1::Room* resp,
                                                        bool open) {
  auto p = d_.auth->Authenticate(*ctx);
  if (!p.ok()) return Finish(ctx, p.status());
  if (auto s = RoomService::ValidRoomName(name); !s.ok()) return Finish(ctx, s);
  auto* reactor = ctx->DefaultReactor();
  rooms_.OpenOrClose(*p, name, open, etag, Answer(reactor, resp));
  return reactor;
}

namespace {

// One WatchRoom stream: sends the room's events in order, one write at a
// time, reading more whenever the room has new ones (Wake) or a write is
// done; ends when the room closes. Never blocks a reactor thread.
class WatchReactor final : public grpc::ServerWriteReactor<v1::RoomEvent>,
                           public RoomWatchers::Watcher {
 public:
  WatchReactor(MediaGrpcService* service, std::string name, int64_t after, std::string participant)
      : service_(service),
        name_(std::move(name)),
        participant_(std::move(participant)),
        after_(after) {
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

grpc::ServerWriteReactor<v1::RoomEvent>* MediaGrpcService::WatchRoom(
    Ctx* ctx, const v1::WatchRoomRequest* req) {
  auto refuse = [](const absl::Status& s) {
    struct Refused : grpc::ServerWriteReactor<v1::RoomEvent> {
      explicit Refused(const absl::Status& s) { Finish(ToGrpcStatus(s)); }
      void OnDone() override { delete this; }
    };
    return new Refused(s);
  };
  auto p = d_.auth->Authenticate(*ctx);
  if (!p.ok()) return refuse(p.status());
  if (auto s = RoomService::ValidRoomName(req->name()); !s.ok()) return refuse(s);
  if (req->after_sequence() < 0)
    return refuse(InvalidField("after_sequence", "must not be negative"));
  const bool bridged = d_.bridges != nullptr && d_.bridges->IsBridged(req->name());
  std::string present;  // a site watching under its id
  if (!bridged) {
    auto who = rooms_.CheckWatch(*p, *req);
    if (!who.ok()) return refuse(who.status());
    present = *who;
  } else if (!req->participant().empty()) {
    return refuse(InvalidField("participant", "is only for watching a room on its host's node"));
  }
  return new WatchReactor(this, req->name(), req->after_sequence(), present);
}

grpc::ServerUnaryReactor* MediaGrpcService::ConnectBridge(Ctx* ctx,
                                                          const v1::ConnectBridgeRequest* req,
                                                          v1::Room* resp) {
  auto p = d_.auth->Authenticate(*ctx);
  if (!p.ok()) return Finish(ctx, p.status());
  if (auto s = rooms_.CheckConnectBridge(*p, *req); !s.ok()) return Finish(ctx, s);
  if (d_.bridges == nullptr) {
    return Finish(ctx,
                  absl::FailedPreconditionError("this node has no federation peers to bridge to"));
  }
  auto* reactor = ctx->DefaultReactor();
  d_.bridges->Connect(req->name(), req->host_unit(),
                      [reactor, resp](absl::StatusOr<v1::Room> room) {
                        if (room.ok()) *resp = *std::move(room);
                        reactor->Finish(ToGrpcStatus(room.status()));
                      });
  return reactor;
}

}  // namespace reception::media
