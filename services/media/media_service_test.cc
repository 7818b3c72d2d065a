// The media service through real gRPC: a server on 127.0.0.1:0, a durable
// room registry in a temp dir, the none backend. Each person calls as
// themselves (dev metadata): the chairman, an officer, two citizens.
#include "services/media/media_service.h"

#include <thread>

#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "services/common/clock.h"
#include "services/common/server_host.h"
#include "services/common/test_support.h"

namespace reception::media {
namespace {

class MediaServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Store::Options o;
    o.path = dir_.Join("media");
    o.column_families = RoomRegistry::ColumnFamilies();
    store_ = *Store::Open(o);
    rooms_ = *RoomRegistry::Open(store_.get());
    signer_ = JoinTokenSigner::Ephemeral();
    backend_ = NewNoneBackend();
    pool_ = std::make_unique<WorkPool>(2, "test-media");
    MediaGrpcService::Deps d{rooms_.get(), signer_.get(), backend_.get(), &auth_, &clock_,
                             pool_.get(),  "49"};
    service_ = std::make_unique<MediaGrpcService>(d);
    host_ = std::make_unique<ServerHost>(ServerHost::Options{"127.0.0.1:0", ""},
                                         std::make_shared<prometheus::Registry>());
    host_->AddService(service_.get(), "reception.media.v1.MediaService");
    ASSERT_TRUE(host_->Start().ok());
    stub_ = v1::MediaService::NewStub(grpc::CreateChannel(absl::StrCat("127.0.0.1:", host_->port()),
                                                          grpc::InsecureChannelCredentials()));
  }
  void TearDown() override {
    host_->Shutdown(absl::Seconds(1));
    pool_.reset();
  }

  template <typename Req, typename Resp>
  absl::StatusOr<Resp> Call(grpc::Status (v1::MediaService::Stub::*m)(grpc::ClientContext*,
                                                                      const Req&, Resp*),
                            const Req& req, const std::string& subject,
                            const std::string& role = "officer", const std::string& unit = "49") {
    grpc::ClientContext ctx;
    ctx.AddMetadata("x-reception-subject", subject);
    ctx.AddMetadata("x-reception-role", role);
    ctx.AddMetadata("x-reception-unit", unit);
    Resp out;
    grpc::Status s = (stub_.get()->*m)(&ctx, req, &out);
    if (!s.ok())
      return absl::Status(static_cast<absl::StatusCode>(s.error_code()), s.error_message());
    return out;
  }
  std::string Token(const std::string& role, const std::string& unit, const std::string& subject) {
    v1::IssueJoinTokenRequest r;
    r.set_name("rooms/tcd-2026-11");
    r.set_role(role);
    r.set_unit(unit);
    r.set_subject(subject);
    auto t = Call(&v1::MediaService::Stub::IssueJoinToken, r, "officer.lan");
    EXPECT_TRUE(t.ok()) << t.status();
    return t.ok() ? t->token() : "";
  }
  absl::StatusOr<v1::JoinRoomResponse> Join(const std::string& token, const std::string& subject) {
    v1::JoinRoomRequest r;
    r.set_name("rooms/tcd-2026-11");
    r.set_join_token(token);
    return Call(&v1::MediaService::Stub::JoinRoom, r, subject, "viewer");
  }

  testing::TempDir dir_;
  FakeClock clock_{absl::FromUnixSeconds(1780000000)};
  DevMetadataAuthenticator auth_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<RoomRegistry> rooms_;
  std::unique_ptr<JoinTokenSigner> signer_;
  std::unique_ptr<MediaBackend> backend_;
  std::unique_ptr<WorkPool> pool_;
  std::unique_ptr<MediaGrpcService> service_;
  std::unique_ptr<ServerHost> host_;
  std::unique_ptr<v1::MediaService::Stub> stub_;
};

TEST_F(MediaServiceTest, ARoomSessionThroughTheApi) {
  v1::CreateRoomRequest create;
  create.set_room_id("tcd-2026-11");
  auto room = Call(&v1::MediaService::Stub::CreateRoom, create, "officer.lan");
  ASSERT_TRUE(room.ok()) << room.status();
  EXPECT_EQ(room->state(), v1::ROOM_STATE_SCHEDULED);
  EXPECT_EQ(
      Call(&v1::MediaService::Stub::CreateRoom, create, "citizen.an", "viewer").status().code(),
      absl::StatusCode::kPermissionDenied);
  // Joining before the room opens is refused.
  EXPECT_EQ(Join(Token("citizen", "502-1", "citizen.an"), "citizen.an").status().code(),
            absl::StatusCode::kFailedPrecondition);
  v1::OpenRoomRequest open;
  open.set_name("rooms/tcd-2026-11");
  ASSERT_TRUE(Call(&v1::MediaService::Stub::OpenRoom, open, "officer.lan").ok());

  auto chair = Join(Token("presiding", "49", "chairman"), "chairman");
  ASSERT_TRUE(chair.ok()) << chair.status();
  EXPECT_EQ(chair->media().backend(), "none");
  const std::string an_token = Token("citizen", "502-1", "citizen.an");
  // Someone else's token, a forged one, one for another room: refused.
  EXPECT_EQ(Join(an_token, "citizen.binh").status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(Join(an_token + "x", "citizen.an").status().code(), absl::StatusCode::kUnauthenticated);
  auto an = Join(an_token, "citizen.an");
  ASSERT_TRUE(an.ok()) << an.status();
  auto binh = Join(Token("citizen", "502-2", "citizen.binh"), "citizen.binh");
  ASSERT_TRUE(binh.ok());
  const std::string c = chair->participant(), a = an->participant(), b = binh->participant();

  // The lobby, then the floor, one citizen at a time.
  v1::AdmitParticipantRequest admit;
  admit.set_name("rooms/tcd-2026-11");
  admit.set_participant(a);  // a citizen may not admit
  admit.set_target(a);
  EXPECT_EQ(Call(&v1::MediaService::Stub::AdmitParticipant, admit, "citizen.an", "viewer")
                .status()
                .code(),
            absl::StatusCode::kPermissionDenied);
  admit.set_participant(c);
  EXPECT_EQ(Call(&v1::MediaService::Stub::AdmitParticipant, admit, "citizen.an", "viewer")
                .status()
                .code(),
            absl::StatusCode::kPermissionDenied);  // acting as the chairman without being him
  ASSERT_TRUE(Call(&v1::MediaService::Stub::AdmitParticipant, admit, "chairman").ok());
  admit.set_target(b);
  ASSERT_TRUE(Call(&v1::MediaService::Stub::AdmitParticipant, admit, "chairman").ok());
  v1::RaiseHandRequest hand;
  hand.set_name("rooms/tcd-2026-11");
  hand.set_participant(b);
  hand.set_raised(true);
  ASSERT_TRUE(Call(&v1::MediaService::Stub::RaiseHand, hand, "citizen.binh", "viewer").ok());
  hand.set_participant(a);
  auto queued = Call(&v1::MediaService::Stub::RaiseHand, hand, "citizen.an", "viewer");
  ASSERT_TRUE(queued.ok());
  EXPECT_EQ(std::vector<std::string>(queued->hand_queue().begin(), queued->hand_queue().end()),
            (std::vector<std::string>{b, a}));
  v1::GrantFloorRequest grant;
  grant.set_name("rooms/tcd-2026-11");
  grant.set_participant(c);
  grant.set_target(b);
  ASSERT_TRUE(Call(&v1::MediaService::Stub::GrantFloor, grant, "chairman").ok());
  grant.set_target(a);
  auto second = Call(&v1::MediaService::Stub::GrantFloor, grant, "chairman");
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);

  // Recording waits for every present citizen's consent.
  v1::StartRecordingRequest record;
  record.set_name("rooms/tcd-2026-11");
  record.set_participant(c);
  EXPECT_EQ(Call(&v1::MediaService::Stub::StartRecording, record, "chairman").status().code(),
            absl::StatusCode::kFailedPrecondition);
  for (const auto& [p, who] : {std::pair{a, "citizen.an"}, std::pair{b, "citizen.binh"}}) {
    v1::SetRecordingConsentRequest consent;
    consent.set_name("rooms/tcd-2026-11");
    consent.set_participant(p);
    consent.set_consent(true);
    ASSERT_TRUE(Call(&v1::MediaService::Stub::SetRecordingConsent, consent, who, "viewer").ok());
  }
  auto recording = Call(&v1::MediaService::Stub::StartRecording, record, "chairman");
  ASSERT_TRUE(recording.ok()) << recording.status();
  EXPECT_TRUE(recording->recording());

  // Minutes: drafted, signed by the chairman and the citizen concerned, locked.
  v1::UpdateMinutesRequest minutes;
  minutes.set_name("rooms/tcd-2026-11");
  minutes.set_participant(c);
  minutes.mutable_minutes()->set_place("Trụ sở Tiếp công dân tỉnh");
  minutes.mutable_minutes()->add_cases("cases/49-2026-000012");
  auto* st = minutes.mutable_minutes()->add_statements();
  st->set_participant(a);
  st->set_summary("Đề nghị xem xét lại quyết định");
  minutes.mutable_minutes()->set_conclusions("Giao Sở kiểm tra, trả lời trong 15 ngày");
  auto drafted = Call(&v1::MediaService::Stub::UpdateMinutes, minutes, "chairman");
  ASSERT_TRUE(drafted.ok()) << drafted.status();
  // Etags: signing the text read before the draft changed is refused; the
  // room's etag moves with every event.
  ASSERT_FALSE(recording->etag().empty());
  EXPECT_NE(drafted->etag(), recording->etag());
  v1::SignMinutesRequest sign;
  sign.set_name("rooms/tcd-2026-11");
  sign.set_participant(c);
  sign.set_etag(recording->etag());
  EXPECT_EQ(Call(&v1::MediaService::Stub::SignMinutes, sign, "chairman").status().code(),
            absl::StatusCode::kAborted);
  minutes.set_etag(recording->etag());
  EXPECT_EQ(Call(&v1::MediaService::Stub::UpdateMinutes, minutes, "chairman").status().code(),
            absl::StatusCode::kAborted);
  minutes.clear_etag();
  sign.set_etag(drafted->etag());
  ASSERT_TRUE(Call(&v1::MediaService::Stub::SignMinutes, sign, "chairman").ok());
  sign.clear_etag();
  sign.set_participant(a);
  auto signed_room = Call(&v1::MediaService::Stub::SignMinutes, sign, "citizen.an", "viewer");
  ASSERT_TRUE(signed_room.ok());
  EXPECT_TRUE(signed_room->minutes().locked());
  EXPECT_NE(signed_room->minutes().text().find("Giao Sở kiểm tra"), std::string::npos);
  EXPECT_EQ(Call(&v1::MediaService::Stub::UpdateMinutes, minutes, "chairman").status().code(),
            absl::StatusCode::kFailedPrecondition);

  // The events, resumable from a sequence.
  v1::ListRoomEventsRequest events;
  events.set_name("rooms/tcd-2026-11");
  auto all = Call(&v1::MediaService::Stub::ListRoomEvents, events, "chairman");
  ASSERT_TRUE(all.ok());
  ASSERT_GT(all->events_size(), 10);
  events.set_after_sequence(all->events(9).sequence());
  auto rest = Call(&v1::MediaService::Stub::ListRoomEvents, events, "chairman");
  ASSERT_TRUE(rest.ok());
  EXPECT_EQ(rest->events(0).sequence(), all->events(10).sequence());
  EXPECT_EQ(rest->last_sequence(), all->last_sequence());

  v1::CloseRoomRequest close;
  close.set_name("rooms/tcd-2026-11");
  auto closed = Call(&v1::MediaService::Stub::CloseRoom, close, "officer.lan");
  ASSERT_TRUE(closed.ok()) << closed.status();
  EXPECT_EQ(closed->state(), v1::ROOM_STATE_CLOSED);
  EXPECT_FALSE(closed->recording());
}

TEST_F(MediaServiceTest, ExpiredTokensAreRefused) {
  v1::CreateRoomRequest create;
  create.set_room_id("tcd-2026-11");
  // Only this unit's staff create its rooms (an officer of 502 may not).
  auto foreign = Call(&v1::MediaService::Stub::CreateRoom, create, "officer.x", "officer", "502");
  EXPECT_EQ(foreign.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_NE(foreign.status().message().find("hosts the room"), std::string::npos)
      << foreign.status();
  ASSERT_TRUE(Call(&v1::MediaService::Stub::CreateRoom, create, "officer.lan").ok());
  v1::OpenRoomRequest open;
  open.set_name("rooms/tcd-2026-11");
  ASSERT_TRUE(Call(&v1::MediaService::Stub::OpenRoom, open, "officer.lan").ok());
  // Only the host unit's staff issue tokens for its rooms.
  v1::IssueJoinTokenRequest other;
  other.set_name("rooms/tcd-2026-11");
  other.set_role("citizen");
  other.set_unit("502-1");
  other.set_subject("citizen.an");
  EXPECT_EQ(Call(&v1::MediaService::Stub::IssueJoinToken, other, "officer.x", "officer", "502")
                .status()
                .code(),
            absl::StatusCode::kPermissionDenied);
  // Subjects and units are plain and bounded (they end up in tokens, rooms
  // and logs).
  for (const std::string& subject :
       {std::string("citizen\nan"), std::string("nul\0x", 5), std::string(10000, 'a')}) {
    v1::IssueJoinTokenRequest r = other;
    r.set_subject(subject);
    auto s = Call(&v1::MediaService::Stub::IssueJoinToken, r, "officer.lan");
    EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(s.status().message().find("subject"), std::string::npos) << s.status();
    EXPECT_EQ(s.status().message().find('\n'), std::string::npos);
  }
  for (const std::string& unit :
       {std::string("502-1\nlevel=info"), std::string(40, '5'), std::string("")}) {
    v1::IssueJoinTokenRequest r = other;
    r.set_unit(unit);
    auto s = Call(&v1::MediaService::Stub::IssueJoinToken, r, "officer.lan");
    EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(s.status().message().find("unit"), std::string::npos) << s.status();
  }
  const std::string token = Token("citizen", "502-1", "citizen.an");
  clock_.Advance(absl::Minutes(16));  // default lifetime 15 minutes
  auto late = Join(token, "citizen.an");
  EXPECT_EQ(late.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_NE(late.status().message().find("expired"), std::string::npos);
}

// Many streams at once while events are produced from several threads:
// every stream gets every event exactly once, in order, and ends when the
// room closes; a stream that starts late catches up first.
TEST_F(MediaServiceTest, WatchRoomStreamsEveryEventInOrderToEveryWatcher) {
  v1::CreateRoomRequest create;
  create.set_room_id("tcd-2026-11");
  ASSERT_TRUE(Call(&v1::MediaService::Stub::CreateRoom, create, "officer.lan").ok());
  v1::OpenRoomRequest open;
  open.set_name("rooms/tcd-2026-11");
  ASSERT_TRUE(Call(&v1::MediaService::Stub::OpenRoom, open, "officer.lan").ok());
  struct Stream {
    grpc::ClientContext ctx;
    std::unique_ptr<grpc::ClientReader<v1::RoomEvent>> reader;
    std::vector<int64_t> seen;
    grpc::Status status;
  };
  auto watch = [&](Stream* s, int64_t after) {
    s->ctx.AddMetadata("x-reception-subject", "officer.lan");
    s->ctx.AddMetadata("x-reception-role", "officer");
    s->ctx.AddMetadata("x-reception-unit", "49");
    v1::WatchRoomRequest r;
    r.set_name("rooms/tcd-2026-11");
    r.set_after_sequence(after);
    s->reader = stub_->WatchRoom(&s->ctx, r);
    return std::thread([s] {
      v1::RoomEvent e;
      while (s->reader->Read(&e)) s->seen.push_back(e.sequence());
      s->status = s->reader->Finish();
    });
  };
  std::vector<std::unique_ptr<Stream>> streams;
  std::vector<std::thread> readers;
  for (int i = 0; i < 8; ++i) {
    streams.push_back(std::make_unique<Stream>());
    readers.push_back(watch(streams.back().get(), 0));
  }
  // 4 threads x 20 joins (one event each).
  std::vector<std::thread> writers;
  for (int w = 0; w < 4; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 0; i < 20; ++i) {
        const std::string who = absl::StrCat("observer-", w, "-", i);
        ASSERT_TRUE(Join(Token("observer", "49", who), who).ok());
      }
    });
  }
  for (auto& t : writers) t.join();
  streams.push_back(std::make_unique<Stream>());
  readers.push_back(watch(streams.back().get(), 10));  // late, from sequence 10
  v1::CloseRoomRequest close;
  close.set_name("rooms/tcd-2026-11");
  auto closed = Call(&v1::MediaService::Stub::CloseRoom, close, "officer.lan");
  ASSERT_TRUE(closed.ok()) << closed.status();
  const int64_t last = closed->last_event_sequence();
  EXPECT_EQ(last, 2 + 80 + 1);  // scheduled, opened, 80 joins, closed
  for (auto& t : readers) t.join();
  for (size_t i = 0; i < streams.size(); ++i) {
    const auto& s = *streams[i];
    EXPECT_TRUE(s.status.ok()) << s.status.error_message();
    const int64_t first = i + 1 == streams.size() ? 11 : 1;
    ASSERT_EQ(s.seen.size(), static_cast<size_t>(last - first + 1)) << "stream " << i;
    for (size_t k = 0; k < s.seen.size(); ++k)
      EXPECT_EQ(s.seen[k], first + static_cast<int64_t>(k));
  }
}

}  // namespace
}  // namespace reception::media
