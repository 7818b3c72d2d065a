// The media rules without gRPC: room creation and its bridges, who issues
// which join token, joining with one, acting only as oneself, and the events
// readers may see.
#include "services/media/room_service.h"

#include <future>

#include "gtest/gtest.h"
#include "services/common/test_support.h"

namespace reception::media {
namespace {

class RoomServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Store::Options o;
    o.path = dir_.Join("media");
    o.column_families = RoomRegistry::ColumnFamilies();
    auto store = Store::Open(o);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    auto rooms = RoomRegistry::Open(store_.get());
    ASSERT_TRUE(rooms.ok()) << rooms.status();
    rooms_ = *std::move(rooms);
    backend_ = NewNoneBackend();
    RoomService::Deps d;
    d.rooms = rooms_.get();
    d.signer = signer_.get();
    d.backend = backend_.get();
    d.clock = &clock_;
    d.pool = &pool_;
    d.unit_code = "49";
    service_ = std::make_unique<RoomService>(std::move(d));
  }

  template <typename T, typename F>
  absl::StatusOr<T> Wait(F call) {
    std::promise<absl::StatusOr<T>> p;
    call([&p](absl::StatusOr<T> r) { p.set_value(std::move(r)); });
    return p.get_future().get();
  }

  absl::StatusOr<v1::Room> Create(const v1::CreateRoomRequest& r, const Principal& p) {
    return Wait<v1::Room>([&](auto cb) { service_->CreateRoom(p, r, std::move(cb)); });
  }
  absl::StatusOr<v1::Room> Open(const std::string& name) {
    return Wait<v1::Room>(
        [&](auto cb) { service_->OpenOrClose(officer_, name, true, "", std::move(cb)); });
  }
  absl::StatusOr<v1::JoinRoomResponse> Join(const Principal& who, const std::string& role,
                                            const std::string& unit) {
    v1::IssueJoinTokenRequest issue;
    issue.set_name("rooms/r1");
    issue.set_role(role);
    issue.set_unit(unit);
    issue.set_subject(who.subject);
    auto token = service_->IssueJoinToken(officer_, issue);
    if (!token.ok()) return token.status();
    v1::JoinRoomRequest join;
    join.set_name("rooms/r1");
    join.set_join_token(token->token());
    return Wait<v1::JoinRoomResponse>(
        [&](auto cb) { service_->JoinRoom(who, join, std::move(cb)); });
  }

  testing::TempDir dir_;
  FakeClock clock_{absl::FromUnixSeconds(1780000000)};
  WorkPool pool_{1, "media-test"};
  std::unique_ptr<JoinTokenSigner> signer_ = JoinTokenSigner::Ephemeral();
  std::unique_ptr<MediaBackend> backend_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<RoomRegistry> rooms_;
  std::unique_ptr<RoomService> service_;
  Principal officer_{"officer.lan", reception::Role::kReceptionOfficer, "49"};
};

TEST_F(RoomServiceTest, CreateRoomChecksWhoAndEveryBridge) {
  v1::CreateRoomRequest r;
  r.set_room_id("r1");
  auto* b = r.add_bridges();
  b->set_unit("49-1");
  b->set_sip_uri("sip:room@");  // no host
  auto refused = Create(r, officer_);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("bridges[0].sip_uri"), std::string::npos);
  b->set_sip_uri("sips:room-1@pbx.example.vn");
  auto* twice = r.add_bridges();
  twice->set_unit("49-1");
  EXPECT_NE(Create(r, officer_).status().message().find("bridges[1].unit"), std::string::npos);
  r.mutable_bridges()->RemoveLast();
  // Another unit's staff cannot create this unit's rooms.
  EXPECT_EQ(
      Create(r, Principal{"officer.b", reception::Role::kReceptionOfficer, "49-1"}).status().code(),
      absl::StatusCode::kPermissionDenied);
  auto room = Create(r, officer_);
  ASSERT_TRUE(room.ok()) << room.status();
  EXPECT_EQ(room->name(), "rooms/r1");
  ASSERT_EQ(room->bridges_size(), 1);
  EXPECT_EQ(room->bridges(0).sip_uri(), "sips:room-1@pbx.example.vn");
  EXPECT_EQ(Create(r, officer_).status().code(), absl::StatusCode::kAlreadyExists);
}

TEST_F(RoomServiceTest, ABridgePointIssuesTokensOnlyForItsOwnSiteAndNeverThePresiding) {
  v1::CreateRoomRequest r;
  r.set_room_id("r1");
  r.add_bridges()->set_unit("49-1");
  ASSERT_TRUE(Create(r, officer_).ok());
  const Principal bridge_staff{"officer.b", reception::Role::kReceptionOfficer, "49-1"};
  const Principal stranger{"officer.c", reception::Role::kReceptionOfficer, "49-2"};
  v1::IssueJoinTokenRequest issue;
  issue.set_name("rooms/r1");
  issue.set_role("citizen");
  issue.set_unit("49-1");
  issue.set_subject("citizen.an");
  EXPECT_TRUE(service_->IssueJoinToken(bridge_staff, issue).ok());
  EXPECT_EQ(service_->IssueJoinToken(stranger, issue).status().code(),
            absl::StatusCode::kPermissionDenied);
  issue.set_unit("49");
  EXPECT_EQ(service_->IssueJoinToken(bridge_staff, issue).status().code(),
            absl::StatusCode::kInvalidArgument);
  issue.set_unit("49-1");
  issue.set_role("presiding");
  EXPECT_EQ(service_->IssueJoinToken(bridge_staff, issue).status().code(),
            absl::StatusCode::kPermissionDenied);
  issue.set_role("citizen");
  issue.set_subject("bad\x01subject");
  EXPECT_NE(service_->IssueJoinToken(bridge_staff, issue).status().message().find("subject"),
            std::string::npos);
}

TEST_F(RoomServiceTest, AParticipantActsOnlyAsItselfAndReadersSeeDurableEvents) {
  v1::CreateRoomRequest r;
  r.set_room_id("r1");
  ASSERT_TRUE(Create(r, officer_).ok());
  ASSERT_TRUE(Open("rooms/r1").ok());
  const Principal chair{"chairman", reception::Role::kHead, "49"};
  const Principal an{"citizen.an", reception::Role::kReceptionOfficer, "49"};
  auto chair_in = Join(chair, "presiding", "49");
  ASSERT_TRUE(chair_in.ok()) << chair_in.status();
  EXPECT_EQ(chair_in->media().backend(), "none");
  auto an_in = Join(an, "citizen", "49");
  ASSERT_TRUE(an_in.ok()) << an_in.status();
  // A token issued to someone else does not let this caller in.
  v1::IssueJoinTokenRequest issue;
  issue.set_name("rooms/r1");
  issue.set_role("citizen");
  issue.set_unit("49");
  issue.set_subject("citizen.binh");
  v1::JoinRoomRequest join;
  join.set_name("rooms/r1");
  join.set_join_token(service_->IssueJoinToken(officer_, issue)->token());
  EXPECT_EQ(
      Wait<v1::JoinRoomResponse>([&](auto cb) { service_->JoinRoom(an, join, std::move(cb)); })
          .status()
          .code(),
      absl::StatusCode::kPermissionDenied);
  // The citizen cannot give consent for the chairman.
  auto raise = [&](const Principal& who, const std::string& participant) {
    return Wait<v1::Room>([&](auto cb) {
      service_->Act(
          who, "rooms/r1", participant, [](internal::RoomOp& op) { op.set_consent(true); },
          std::move(cb));
    });
  };
  EXPECT_EQ(raise(an, chair_in->participant()).status().code(),
            absl::StatusCode::kPermissionDenied);
  auto raised = raise(an, an_in->participant());
  ASSERT_TRUE(raised.ok()) << raised.status();
  // Every event the answer reflects is one readers can list.
  auto events = service_->Events("rooms/r1", 0, 1000);
  ASSERT_TRUE(events.ok());
  ASSERT_FALSE(events->events.empty());
  EXPECT_EQ(events->events.back().sequence(), raised->last_event_sequence());
  EXPECT_FALSE(events->ended);
  auto page = service_->Events("rooms/r1", 0, 2);
  ASSERT_EQ(page->events.size(), 2u);
  EXPECT_EQ(page->events[0].sequence(), 1);
}

}  // namespace
}  // namespace reception::media
