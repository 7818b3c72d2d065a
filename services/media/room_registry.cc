#include "services/media/room_registry.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "services/common/key_file.h"
#include "services/common/logging.h"
#include "services/common/status.h"

namespace reception::media {
namespace {

constexpr char kOps[] = "room_ops";  // BE64(sequence) -> RoomOp

}  // namespace

std::vector<std::string> RoomRegistry::ColumnFamilies() { return {kOps}; }

RoomRegistry::RoomRegistry(Store* store) : store_(store), ops_(store->Family(kOps)) {}

absl::StatusOr<std::unique_ptr<RoomRegistry>> RoomRegistry::Open(Store* store) {
  std::unique_ptr<RoomRegistry> r(new RoomRegistry(store));
  auto it = store->NewIterator(r->ops_);
  internal::RoomOp op;
  // Lock order: the writer's copy before the readers'.
  absl::MutexLock writer(&r->writer_mu_);
  absl::MutexLock lock(&r->mu_);
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    if (!op.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return absl::DataLossError("a stored room operation does not parse");
    }
    if (auto applied = ApplyToRooms(r->working_, op); !applied.ok()) {
      return absl::DataLossError(
          absl::StrCat("stored room operation ",
                       FromBigEndian64(absl::string_view(it->key().data(), it->key().size())),
                       " on ", op.room(), " no longer applies: ", applied.status().message()));
    }
    r->next_op_ = FromBigEndian64(absl::string_view(it->key().data(), it->key().size())) + 1;
  }
  if (!it->status().ok()) return absl::InternalError(it->status().ToString());
  r->published_ = r->working_;
  return r;
}

absl::StatusOr<std::string> RoomRegistry::ApplyToRooms(std::map<std::string, Room>& rooms,
                                                       const internal::RoomOp& op) {
  const absl::Time t = absl::FromUnixMicros(op.time_unix_micros());
  if (op.op_case() == internal::RoomOp::kCreateHostUnit ||
      op.op_case() == internal::RoomOp::kCreate) {
    if (rooms.count(op.room()))
      return absl::AlreadyExistsError(absl::StrCat(op.room(), " already exists"));
    RoomSetup setup;
    if (op.op_case() == internal::RoomOp::kCreateHostUnit) {
      setup.host_unit = op.create_host_unit();
    } else {
      setup.host_unit = op.create().host_unit();
      setup.session = op.create().session();
      setup.agenda_cases.assign(op.create().agenda_cases().begin(),
                                op.create().agenda_cases().end());
      for (const auto& b : op.create().bridges()) setup.bridges.push_back({b.unit(), b.sip_uri()});
    }
    rooms.emplace(op.room(), Room(op.room(), std::move(setup), t));
    return std::string();
  }
  auto it = rooms.find(op.room());
  if (it == rooms.end()) return absl::NotFoundError(absl::StrCat(op.room(), " does not exist"));
  Room& room = it->second;
  const std::string& actor = op.actor();
  const std::string& who = op.participant();
  using Op = internal::RoomOp;
  switch (op.op_case()) {
    case Op::kOpen: {
      if (auto s = room.Open(t); !s.ok()) return s;
      return std::string();
    }
    case Op::kClose: {
      if (auto s = room.Close(t); !s.ok()) return s;
      return std::string();
    }
    case Op::kJoin: {
      auto role = ParseRole(op.join().role());
      if (!role.ok()) return role.status();
      return room.Join(op.join().subject(), *role, op.join().unit(), t);
    }
    default:
      break;
  }
  absl::Status s;
  switch (op.op_case()) {
    case Op::kLeave:
      s = room.Leave(who, t);
      break;
    case Op::kAdmit:
      s = room.Admit(actor, who, t);
      break;
    case Op::kSendToLobby:
      s = room.SendToLobby(actor, who, t);
      break;
    case Op::kRaiseHand:
      s = room.RaiseHand(who, op.raise_hand(), t);
      break;
    case Op::kGrantFloor:
      s = room.GrantFloor(actor, who, t);
      break;
    case Op::kReleaseFloor:
      s = room.ReleaseFloor(who, t);
      break;
    case Op::kRevokeFloor:
      s = room.RevokeFloor(actor, t);
      break;
    case Op::kMute:
      s = room.Mute(actor, who, op.mute(), t);
      break;
    case Op::kRemove:
      s = room.Remove(actor, who, t);
      break;
    case Op::kConsent:
      s = room.SetRecordingConsent(who, op.consent(), t);
      break;
    case Op::kStartRecording:
      s = room.StartRecording(actor, t);
      break;
    case Op::kStopRecording:
      s = room.StopRecording(actor, t);
      break;
    case Op::kHeartbeat:
      s = room.Heartbeat(who, t);
      break;
    case Op::kDisconnect:
      s = room.Disconnect(who, t, op.detail().empty() ? "no heartbeat" : op.detail());
      break;
    case Op::kAttachment:
      s = room.RecordAttachment(op.attachment().case_(), op.attachment().attached(), op.detail(),
                                t);
      break;
    case Op::kSignMinutes:
      s = room.SignMinutes(who, t);
      break;
    case Op::kUpdateMinutes: {
      MinutesDraft draft;
      draft.place = op.update_minutes().place();
      draft.cases.assign(op.update_minutes().cases().begin(), op.update_minutes().cases().end());
      for (const auto& st : op.update_minutes().statements())
        draft.statements.push_back({st.participant(), st.summary()});
      draft.conclusions = op.update_minutes().conclusions();
      s = room.UpdateMinutes(actor, std::move(draft), t);
      break;
    }
    default:
      s = absl::InvalidArgumentError("the room operation is empty");
  }
  if (!s.ok()) return s;
  return std::string();
}

void RoomRegistry::Publish(WriteTxn& txn, const internal::RoomOp& op, bool notify) {
  // Durable before visible: readers' rooms take the operation only once its
  // write is durable. Applying is deterministic (the op carries its time),
  // as replay at start relies on, so the readers' copy ends where the
  // writer's did.
  txn.OnDurable([this, op, notify] {
    {
      absl::MutexLock lock(&mu_);
      if (auto applied = ApplyToRooms(published_, op); !applied.ok()) {
        Log()->error("event=room_publish_diverged room={} error={}", op.room(),
                     LogValue(applied.status().message()));
      }
    }
    if (notify && listener_) listener_(op.room());
  });
}

void RoomRegistry::Apply(internal::RoomOp op, Done done) {
  auto result = std::make_shared<std::string>();
  const bool heartbeat = op.op_case() == internal::RoomOp::kHeartbeat;
  const std::string room_name = op.room();
  store_->Submit(
      [this, op = std::move(op), result](WriteTxn& txn) -> absl::Status {
        absl::MutexLock lock(&writer_mu_);
        auto before = working_.find(op.room());
        const bool was_locked = before != working_.end() && before->second.minutes().locked;
        if (!op.expected_etag().empty() && before != working_.end()) {
          const std::string now = absl::StrCat("e", before->second.last_sequence());
          if (op.expected_etag() != now) {
            return WithReason(absl::AbortedError(absl::StrCat(
                                  "etag ", op.expected_etag().substr(0, 64),
                                  " is stale: ", op.room(), " is now at ", now, "; read it again")),
                              "ETAG_MISMATCH");
          }
        }
        auto applied = ApplyToRooms(working_, op);
        if (!applied.ok()) return applied.status();
        *result = *applied;
        const Room& room = working_.at(op.room());
        // Heartbeats only move a participant's last-seen time; who went
        // silent is stored as an explicit disconnect instead.
        if (op.op_case() != internal::RoomOp::kHeartbeat) {
          txn.Put(ops_, BigEndian64(next_op_++), op.SerializeAsString());
          if (after_apply_) after_apply_(op, room, !was_locked && room.minutes().locked, txn);
        }
        Publish(txn, op, /*notify=*/false);
        return absl::OkStatus();
      },
      [this, heartbeat, room = room_name, result, done = std::move(done)](absl::Status s) mutable {
        if (!s.ok()) return done(s);
        done(*result);
        if (listener_ && !heartbeat) listener_(room);
      });
}

absl::Status RoomRegistry::ApplyInTxn(const internal::RoomOp& op, WriteTxn& txn) {
  absl::MutexLock lock(&writer_mu_);
  auto applied = ApplyToRooms(working_, op);
  if (!applied.ok()) return applied.status();
  txn.Put(ops_, BigEndian64(next_op_++), op.SerializeAsString());
  Publish(txn, op, /*notify=*/true);
  return absl::OkStatus();
}

absl::StatusOr<Room> RoomRegistry::Get(const std::string& room) const {
  absl::MutexLock lock(&mu_);
  auto it = published_.find(room);
  if (it == published_.end()) return absl::NotFoundError(absl::StrCat(room, " does not exist"));
  return it->second;
}

absl::Status RoomRegistry::With(const std::string& room,
                                absl::FunctionRef<void(const Room&)> fn) const {
  absl::MutexLock lock(&mu_);
  auto it = published_.find(room);
  if (it == published_.end()) return absl::NotFoundError(absl::StrCat(room, " does not exist"));
  fn(it->second);
  return absl::OkStatus();
}

int64_t RoomRegistry::CommittedSequence(const std::string& room) const {
  absl::MutexLock lock(&mu_);
  auto it = published_.find(room);
  return it == published_.end() ? 0 : it->second.last_sequence();
}

std::vector<std::string> RoomRegistry::RoomIds() const {
  absl::MutexLock lock(&mu_);
  std::vector<std::string> out;
  for (const auto& [id, room] : published_) out.push_back(id);
  return out;
}

}  // namespace reception::media
