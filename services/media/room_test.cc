#include "services/media/room.h"

#include "gtest/gtest.h"
#include "services/media/join_token.h"

namespace reception::media {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1780000000);

class RoomTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(room_.Open(kT0).ok());
    chair_ = *room_.Join("chairman", Role::kPresiding, "49", kT0);
    officer_ = *room_.Join("officer.lan", Role::kOfficer, "49", kT0);
    an_ = *room_.Join("citizen.an", Role::kCitizen, "502-1", kT0);
    binh_ = *room_.Join("citizen.binh", Role::kCitizen, "502-2", kT0);
  }
  Room room_{"rooms/r1", RoomSetup{"49"}, kT0};
  std::string chair_, officer_, an_, binh_;
};

TEST_F(RoomTest, CitizensWaitInTheLobbyUntilAdmitted) {
  EXPECT_EQ(room_.participants().at(an_).presence, Presence::kLobby);
  EXPECT_EQ(room_.participants().at(chair_).presence, Presence::kInRoom);
  EXPECT_EQ(room_.RaiseHand(an_, true, kT0).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(room_.Admit(binh_, an_, kT0).code(),
            absl::StatusCode::kPermissionDenied);  // a citizen may not
  ASSERT_TRUE(room_.Admit(officer_, an_, kT0).ok());
  EXPECT_EQ(room_.participants().at(an_).presence, Presence::kInRoom);
  ASSERT_TRUE(room_.SendToLobby(chair_, an_, kT0).ok());
  EXPECT_EQ(room_.participants().at(an_).presence, Presence::kLobby);
}

TEST_F(RoomTest, OneCitizenHoldsTheFloorAtATimeAndTheQueueIsInOrder) {
  ASSERT_TRUE(room_.Admit(chair_, an_, kT0).ok());
  ASSERT_TRUE(room_.Admit(chair_, binh_, kT0).ok());
  ASSERT_TRUE(room_.RaiseHand(binh_, true, kT0).ok());
  ASSERT_TRUE(room_.RaiseHand(an_, true, kT0).ok());
  EXPECT_EQ(room_.HandQueue(), (std::vector<std::string>{binh_, an_}));
  ASSERT_TRUE(room_.GrantFloor(chair_, binh_, kT0).ok());
  EXPECT_EQ(room_.HandQueue(), std::vector<std::string>{an_});
  auto second = room_.GrantFloor(chair_, an_, kT0);
  EXPECT_EQ(second.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(second.message().find(binh_ + " holds the floor"), std::string::npos);
  EXPECT_EQ(room_.ReleaseFloor(an_, kT0).code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(room_.ReleaseFloor(binh_, kT0).ok());
  ASSERT_TRUE(room_.GrantFloor(chair_, an_, kT0).ok());
  ASSERT_TRUE(room_.RevokeFloor(officer_, kT0).ok());
  EXPECT_FALSE(room_.floor().has_value());
  ASSERT_TRUE(room_.Mute(chair_, an_, true, kT0).ok());
  EXPECT_TRUE(room_.participants().at(an_).muted);
}

TEST_F(RoomTest, RecordingNeedsEveryPresentCitizensConsentAndStopsOnWithdrawal) {
  ASSERT_TRUE(room_.Admit(chair_, an_, kT0).ok());
  ASSERT_TRUE(room_.Admit(chair_, binh_, kT0).ok());
  ASSERT_TRUE(room_.SetRecordingConsent(an_, true, kT0).ok());
  auto refused = room_.StartRecording(chair_, kT0);
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.message().find("missing: " + binh_), std::string::npos) << refused.message();
  ASSERT_TRUE(room_.SetRecordingConsent(binh_, true, kT0).ok());
  ASSERT_TRUE(room_.StartRecording(chair_, kT0).ok());
  EXPECT_TRUE(room_.recording());
  ASSERT_TRUE(room_.SetRecordingConsent(an_, false, kT0).ok());
  EXPECT_FALSE(room_.recording());
  auto events = room_.EventsAfter(0);
  ASSERT_TRUE(events.ok());
  EXPECT_EQ(events->back().kind, "recording_stopped");
  EXPECT_NE(events->back().detail.find("withdrew consent"), std::string::npos);
}

TEST_F(RoomTest, SilentParticipantsAreDisconnectedAndRejoinWithTheSameIdentity) {
  ASSERT_TRUE(room_.Admit(chair_, an_, kT0).ok());
  ASSERT_TRUE(room_.GrantFloor(chair_, an_, kT0).ok());
  ASSERT_TRUE(room_.Heartbeat(chair_, kT0 + absl::Seconds(25)).ok());
  room_.ExpireSilent(kT0 + absl::Seconds(31), absl::Seconds(30));
  EXPECT_EQ(room_.participants().at(an_).presence, Presence::kDisconnected);
  EXPECT_EQ(room_.participants().at(chair_).presence, Presence::kInRoom);
  EXPECT_FALSE(room_.floor().has_value());  // released with the disconnection
  EXPECT_EQ(room_.Heartbeat(an_, kT0 + absl::Seconds(32)).code(),
            absl::StatusCode::kFailedPrecondition);
  auto again = room_.Join("citizen.an", Role::kCitizen, "502-1", kT0 + absl::Seconds(40));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, an_);
  EXPECT_EQ(room_.participants().at(an_).presence, Presence::kInRoom);  // admitted before: back in
  ASSERT_TRUE(room_.Remove(chair_, an_, kT0).ok());
  EXPECT_EQ(room_.Join("citizen.an", Role::kCitizen, "502-1", kT0).status().code(),
            absl::StatusCode::kPermissionDenied);
}

TEST_F(RoomTest, EventsAreNumberedAndResumable) {
  auto all = room_.EventsAfter(0);
  ASSERT_TRUE(all.ok());
  ASSERT_GE(all->size(), 6u);  // scheduled, opened, four joins
  for (size_t i = 0; i < all->size(); ++i)
    EXPECT_EQ((*all)[i].sequence, static_cast<int64_t>(i + 1));
  const int64_t seen = (*all)[3].sequence;
  auto rest = room_.EventsAfter(seen);
  ASSERT_TRUE(rest.ok());
  EXPECT_EQ(rest->front().sequence, seen + 1);
  EXPECT_EQ(rest->size(), all->size() - 4);
  ASSERT_TRUE(room_.Close(kT0).ok());
  EXPECT_EQ(room_.Join("late", Role::kObserver, "49", kT0).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(RoomTest, MinutesAreSignedByThePresidingOfficialAndEachCitizenConcernedThenLocked) {
  ASSERT_TRUE(room_.Admit(chair_, an_, kT0).ok());
  MinutesDraft draft;
  draft.place = "Trụ sở Tiếp công dân tỉnh";
  draft.cases = {"cases/49-2026-000012"};
  draft.statements = {{an_, "Đề nghị xem xét lại quyết định thu hồi đất"}};
  EXPECT_EQ(room_.SignMinutes(chair_, kT0).code(),
            absl::StatusCode::kFailedPrecondition);  // no conclusions
  draft.conclusions = "Giao Sở Tài nguyên và Môi trường kiểm tra, báo cáo trong 15 ngày";
  EXPECT_EQ(room_.UpdateMinutes(an_, draft, kT0).code(), absl::StatusCode::kPermissionDenied);
  MinutesDraft bad = draft;
  bad.statements = {{officer_, "x"}};
  EXPECT_EQ(room_.UpdateMinutes(chair_, bad, kT0).code(), absl::StatusCode::kInvalidArgument);
  // The minutes' one limit is checked at the edit: what the cases would later
  // refuse (control characters, more than kMaxMinutesBytes as signed, too many
  // cases or statements) is refused here, naming the field.
  auto refused = [&](const MinutesDraft& d) {
    auto s = room_.UpdateMinutes(chair_, d, kT0);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
    return std::string(s.message());
  };
  bad = draft;
  bad.place = "Trụ sở\x01";
  EXPECT_NE(refused(bad).find("minutes.place"), std::string::npos);
  bad = draft;
  bad.conclusions = std::string(10001, 'x');
  EXPECT_NE(refused(bad).find("minutes.conclusions"), std::string::npos);
  bad = draft;
  bad.cases.assign(kMaxMinutesCases + 1, "cases/49-2026-000012");
  EXPECT_NE(refused(bad).find("minutes.cases"), std::string::npos);
  bad = draft;
  bad.statements.assign(kMaxMinutesStatements + 1, {an_, "x"});
  EXPECT_NE(refused(bad).find("minutes.statements"), std::string::npos);
  bad = draft;
  bad.statements.assign(30, {an_, std::string(3000, 'y')});  // 90 000 bytes of statements
  EXPECT_NE(refused(bad).find("bytes as signed"), std::string::npos);
  ASSERT_TRUE(room_.UpdateMinutes(officer_, draft, kT0).ok());
  EXPECT_EQ(room_.MissingSignatures(), (std::vector<std::string>{chair_, an_}));
  EXPECT_EQ(room_.SignMinutes(binh_, kT0).code(),
            absl::StatusCode::kFailedPrecondition);  // not concerned
  ASSERT_TRUE(room_.SignMinutes(chair_, kT0).ok());
  // An edit clears the signatures given so far.
  draft.conclusions += "; trả lời công dân bằng văn bản";
  ASSERT_TRUE(room_.UpdateMinutes(chair_, draft, kT0).ok());
  EXPECT_EQ(room_.MissingSignatures().size(), 2u);
  ASSERT_TRUE(room_.SignMinutes(an_, kT0).ok());
  EXPECT_FALSE(room_.minutes().locked);
  ASSERT_TRUE(room_.SignMinutes(chair_, kT0 + absl::Minutes(5)).ok());
  EXPECT_TRUE(room_.minutes().locked);
  EXPECT_EQ(room_.UpdateMinutes(chair_, draft, kT0).code(), absl::StatusCode::kFailedPrecondition);
  const std::string text = room_.RenderMinutes();
  EXPECT_NE(text.find("Trụ sở Tiếp công dân tỉnh"), std::string::npos);
  EXPECT_NE(text.find("citizen tại điểm cầu 502-1"), std::string::npos);
  EXPECT_NE(text.find("cases/49-2026-000012"), std::string::npos);
  EXPECT_NE(text.find("trả lời công dân bằng văn bản"), std::string::npos);
  auto events = room_.EventsAfter(0);
  EXPECT_EQ(events->back().kind, "minutes_locked");
}

TEST(JoinToken, RefusesExpiredForgedAndWrongRoomTokens) {
  auto signer = JoinTokenSigner::Ephemeral();
  auto other = JoinTokenSigner::Ephemeral();
  JoinClaims claims{"rooms/r1", "citizen", "502-1", "citizen.an", kT0 + absl::Minutes(10)};
  auto token = signer->Issue(claims);
  ASSERT_TRUE(token.ok());
  auto ok = signer->Verify(*token, "rooms/r1", kT0);
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->subject, "citizen.an");
  EXPECT_EQ(ok->unit, "502-1");
  auto expired = signer->Verify(*token, "rooms/r1", kT0 + absl::Minutes(11));
  EXPECT_EQ(expired.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_NE(expired.status().message().find("expired"), std::string::npos);
  auto wrong_room = signer->Verify(*token, "rooms/r2", kT0);
  EXPECT_EQ(wrong_room.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_NE(wrong_room.status().message().find("is for rooms/r1, not rooms/r2"), std::string::npos);
  EXPECT_EQ(other->Verify(*token, "rooms/r1", kT0).status().code(),
            absl::StatusCode::kUnauthenticated);
  std::string tampered = *token;
  tampered[3] = tampered[3] == 'A' ? 'B' : 'A';
  EXPECT_EQ(signer->Verify(tampered, "rooms/r1", kT0).status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(signer->Verify("garbage", "rooms/r1", kT0).status().code(),
            absl::StatusCode::kUnauthenticated);
  claims.subject.clear();
  EXPECT_EQ(signer->Issue(claims).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace reception::media
