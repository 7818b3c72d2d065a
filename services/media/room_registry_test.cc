#include "services/media/room_registry.h"

#include <future>

#include "gtest/gtest.h"
#include "services/common/test_support.h"

namespace reception::media {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1780000000);

class RoomRegistryTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }
  void Reopen() {
    registry_.reset();
    store_.reset();
    Store::Options o;
    o.path = dir_.Join("media");
    o.column_families = RoomRegistry::ColumnFamilies();
    auto store = Store::Open(o);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    auto registry = RoomRegistry::Open(store_.get());
    ASSERT_TRUE(registry.ok()) << registry.status();
    registry_ = *std::move(registry);
  }
  // Applies an operation at kT0 + `seconds`.
  absl::StatusOr<std::string> Do(internal::RoomOp op, int seconds = 0) {
    op.set_room("rooms/r1");
    op.set_time_unix_micros(absl::ToUnixMicros(kT0 + absl::Seconds(seconds)));
    std::promise<absl::StatusOr<std::string>> p;
    registry_->Apply(op, [&p](absl::StatusOr<std::string> r) { p.set_value(std::move(r)); });
    return p.get_future().get();
  }
  static internal::RoomOp Op(const std::string& actor = "", const std::string& participant = "") {
    internal::RoomOp op;
    op.set_actor(actor);
    op.set_participant(participant);
    return op;
  }
  static internal::RoomOp JoinOp(const std::string& subject, const std::string& role,
                                 const std::string& unit) {
    internal::RoomOp op;
    op.mutable_join()->set_subject(subject);
    op.mutable_join()->set_role(role);
    op.mutable_join()->set_unit(unit);
    return op;
  }

  testing::TempDir dir_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<RoomRegistry> registry_;
};

TEST_F(RoomRegistryTest, ReadersSeeAnOperationOnlyOnceItsWriteIsDurable) {
  auto create = Op();
  create.set_create_host_unit("49");
  ASSERT_TRUE(Do(create).ok());
  // Inside the write (on the writer, before the group commit), readers still
  // see the room as it was: a crash now would take the open back.
  int64_t seen_inside = -1;
  bool open_inside = true;
  registry_->SetAfterApply([&](const internal::RoomOp&, const Room& room, bool, WriteTxn&) {
    EXPECT_EQ(room.state(), RoomState::kOpen);  // the writer's copy has it
    seen_inside = registry_->CommittedSequence("rooms/r1");
    ASSERT_TRUE(
        registry_
            ->With("rooms/r1", [&](const Room& r) { open_inside = r.state() == RoomState::kOpen; })
            .ok());
  });
  auto open = Op();
  open.set_open(true);
  ASSERT_TRUE(Do(open, 1).ok());
  EXPECT_FALSE(open_inside);
  EXPECT_EQ(seen_inside, 1);  // the creation's event only
  // Once answered, it is durable and visible.
  bool open_after = false;
  ASSERT_TRUE(
      registry_
          ->With("rooms/r1", [&](const Room& r) { open_after = r.state() == RoomState::kOpen; })
          .ok());
  EXPECT_TRUE(open_after);
  EXPECT_GT(registry_->CommittedSequence("rooms/r1"), 1);
  // A refused operation changes neither copy.
  EXPECT_FALSE(Do(open, 2).ok());
  auto join = Do(JoinOp("chairman", "presiding", "49"), 3);
  ASSERT_TRUE(join.ok()) << join.status();
  EXPECT_EQ(registry_->Get("rooms/r1")->participants().count(*join), 1u);
}

TEST_F(RoomRegistryTest, RoomsSurviveARestartExactly) {
  auto create = Op();
  create.set_create_host_unit("49");
  ASSERT_TRUE(Do(create).ok());
  auto open = Op();
  open.set_open(true);
  ASSERT_TRUE(Do(open).ok());
  const std::string chair = *Do(JoinOp("chairman", "presiding", "49"));
  const std::string an = *Do(JoinOp("citizen.an", "citizen", "502-1"), 5);
  const std::string binh = *Do(JoinOp("citizen.binh", "citizen", "502-2"), 6);
  auto admit = Op(chair, an);
  admit.set_admit(true);
  ASSERT_TRUE(Do(admit, 10).ok());
  admit.set_participant(binh);
  ASSERT_TRUE(Do(admit, 11).ok());
  auto grant = Op(chair, an);
  grant.set_grant_floor(true);
  ASSERT_TRUE(Do(grant, 20).ok());
  // Refused by the room rules: not stored.
  grant.set_participant(binh);
  EXPECT_EQ(Do(grant, 21).status().code(), absl::StatusCode::kFailedPrecondition);
  auto consent = Op("", an);
  consent.set_consent(true);
  ASSERT_TRUE(Do(consent, 30).ok());
  consent.set_participant(binh);
  ASSERT_TRUE(Do(consent, 31).ok());
  auto record = Op(chair);
  record.set_start_recording(true);
  ASSERT_TRUE(Do(record, 40).ok());
  auto minutes = Op(chair);
  minutes.mutable_update_minutes()->set_place("Trụ sở Tiếp công dân tỉnh");
  minutes.mutable_update_minutes()->add_cases("cases/49-2026-000012");
  auto* st = minutes.mutable_update_minutes()->add_statements();
  st->set_participant(an);
  st->set_summary("Đề nghị xem xét lại quyết định");
  minutes.mutable_update_minutes()->set_conclusions("Giao Sở kiểm tra");
  ASSERT_TRUE(Do(minutes, 50).ok());
  auto sign = Op("", chair);
  sign.set_sign_minutes(true);
  ASSERT_TRUE(Do(sign, 60).ok());
  sign.set_participant(an);
  ASSERT_TRUE(Do(sign, 61).ok());
  auto heartbeat = Op("", an);
  heartbeat.set_heartbeat(true);
  ASSERT_TRUE(Do(heartbeat, 70).ok());
  auto gone = Op("", binh);
  gone.set_disconnect(true);
  ASSERT_TRUE(Do(gone, 80).ok());

  const Room before = *registry_->Get("rooms/r1");
  EXPECT_TRUE(before.minutes().locked);
  Reopen();
  auto after = registry_->Get("rooms/r1");
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(after->state(), RoomState::kOpen);
  EXPECT_EQ(after->floor(), std::optional<std::string>(an));
  EXPECT_TRUE(after->recording());
  EXPECT_TRUE(after->minutes().locked);
  EXPECT_EQ(after->minutes().draft.conclusions, "Giao Sở kiểm tra");
  EXPECT_EQ(after->participants().at(binh).presence, Presence::kDisconnected);
  EXPECT_EQ(after->participants().at(an).presence, Presence::kInRoom);
  auto e1 = before.EventsAfter(0), e2 = after->EventsAfter(0);
  ASSERT_EQ(e1->size(), e2->size());
  for (size_t i = 0; i < e1->size(); ++i) {
    EXPECT_EQ((*e1)[i].kind, (*e2)[i].kind);
    EXPECT_EQ((*e1)[i].time, (*e2)[i].time);
  }
  // And it goes on from there.
  auto release = Op("", an);
  release.set_release_floor(true);
  ASSERT_TRUE(Do(release, 90).ok());
  EXPECT_FALSE(registry_->Get("rooms/r1")->floor().has_value());
}

TEST_F(RoomRegistryTest, UnknownRoomsAndDuplicatesAreRefused) {
  auto open = Op();
  open.set_open(true);
  EXPECT_EQ(Do(open).status().code(), absl::StatusCode::kNotFound);
  auto create = Op();
  create.set_create_host_unit("49");
  ASSERT_TRUE(Do(create).ok());
  EXPECT_EQ(Do(create).status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(Do(Op()).status().code(), absl::StatusCode::kInvalidArgument);  // no operation
  Reopen();
  EXPECT_EQ(registry_->RoomIds(), std::vector<std::string>{"rooms/r1"});
}

// Readers stop at the last durable event: it follows each acknowledged
// operation (refused ones add nothing) and is the whole log after a restart.
TEST_F(RoomRegistryTest, CommittedSequenceFollowsDurableOperations) {
  EXPECT_EQ(registry_->CommittedSequence("rooms/r1"), 0);
  internal::RoomOp create;
  create.set_create_host_unit("49");
  ASSERT_TRUE(Do(create).ok());
  EXPECT_EQ(registry_->CommittedSequence("rooms/r1"), 1);  // "scheduled"
  internal::RoomOp open = Op();
  open.set_open(true);
  ASSERT_TRUE(Do(open, 1).ok());
  ASSERT_TRUE(Do(JoinOp("chairman", "presiding", "49"), 2).ok());
  EXPECT_EQ(registry_->CommittedSequence("rooms/r1"), 3);
  EXPECT_FALSE(Do(open, 3).ok());  // already open: refused, nothing written
  EXPECT_EQ(registry_->CommittedSequence("rooms/r1"), 3);
  int64_t last = 0;
  ASSERT_TRUE(
      registry_->With("rooms/r1", [&](const Room& room) { last = room.last_sequence(); }).ok());
  EXPECT_EQ(last, 3);
  Reopen();
  EXPECT_EQ(registry_->CommittedSequence("rooms/r1"), 3);
}

}  // namespace
}  // namespace reception::media
