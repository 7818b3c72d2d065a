// The rooms a node hosts, durable: every accepted operation is written to the
// store (in the same group commit the caller waits for) and replayed at
// start, so rooms, participants, floor, consent and minutes survive a crash.
// Transport-free; the media service's gRPC edge calls it.
//
// Operations run on the store's single writer thread: each is checked and
// applied to the writer's copy of the rooms there, and written only when the
// room rules accept it. Readers see a second copy that takes each operation
// only once its write is durable (WriteTxn::OnDurable, the store's one rule
// for memory beside the store), so nobody reads a room state, event or
// participant a crash could take back. If a group commit fails the store
// stops serving (its health turns false) and a restart replays what is
// durable.
#ifndef RECEPTION_SERVICES_MEDIA_ROOM_REGISTRY_H_
#define RECEPTION_SERVICES_MEDIA_ROOM_REGISTRY_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "services/common/store.h"
#include "services/media/room.h"
#include "services/media/room_ops.pb.h"

namespace reception::media {

class RoomRegistry {
 public:
  using Done = absl::AnyInvocable<void(absl::StatusOr<std::string>)>;

  static std::vector<std::string> ColumnFamilies();

  // Replays the stored operations. DATA_LOSS when one no longer applies.
  static absl::StatusOr<std::unique_ptr<RoomRegistry>> Open(Store* store);

  // Checks and applies `op` (its time is set by the caller), then writes it;
  // `done` runs once it is durable, with the participant id for a join and
  // "" otherwise, or with the room rules' error.
  void Apply(internal::RoomOp op, Done done);

  // A copy of the room's current state, NOT_FOUND when unknown. Copies the
  // event log too: prefer With() on hot paths.
  absl::StatusOr<Room> Get(const std::string& room) const;
  // Runs `fn` on the room under the registry's lock (no copy); NOT_FOUND
  // when unknown. `fn` must not call back into the registry.
  absl::Status With(const std::string& room, absl::FunctionRef<void(const Room&)> fn) const;
  std::vector<std::string> RoomIds() const;
  // The room's last event readers see (durable). 0 when unknown.
  int64_t CommittedSequence(const std::string& room) const;
  // Called with the room's name after each durable operation (its `done`
  // has run); set before the first Apply.
  void SetListener(std::function<void(const std::string& room)> listener) {
    listener_ = std::move(listener);
  }
  // Runs on the writer, in the same write as each accepted operation (not
  // heartbeats), with the room after it and whether its minutes locked just
  // now: what must follow from it durably (the minutes' attachments to
  // cases) is queued there. Set before the first Apply.
  using AfterApply = std::function<void(const internal::RoomOp& op, const Room& room,
                                        bool minutes_locked_now, WriteTxn& txn)>;
  void SetAfterApply(AfterApply after) { after_apply_ = std::move(after); }
  // Applies and writes `op` inside another mutation's write (the outbox
  // recording an answer); readers see it, and the listener hears of it,
  // once that write is durable.
  absl::Status ApplyInTxn(const internal::RoomOp& op, WriteTxn& txn);

 private:
  explicit RoomRegistry(Store* store);
  // The rules applied to a copy of the rooms (live, published and on replay).
  static absl::StatusOr<std::string> ApplyToRooms(std::map<std::string, Room>& rooms,
                                                  const internal::RoomOp& op);
  // Readers' rooms take `op` once `txn` is durable.
  void Publish(WriteTxn& txn, const internal::RoomOp& op, bool notify);

  Store* store_;
  rocksdb::ColumnFamilyHandle* ops_;
  mutable absl::Mutex mu_;
  std::map<std::string, Room> published_ ABSL_GUARDED_BY(mu_);  // what readers see
  absl::Mutex writer_mu_;                                       // the writer thread's (and Open's)
  std::map<std::string, Room> working_ ABSL_GUARDED_BY(writer_mu_);
  uint64_t next_op_ ABSL_GUARDED_BY(writer_mu_) = 1;
  std::function<void(const std::string&)> listener_;
  AfterApply after_apply_;
};

}  // namespace reception::media

#endif  // RECEPTION_SERVICES_MEDIA_ROOM_REGISTRY_H_
