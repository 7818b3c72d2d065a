// Online reception rooms on real receptiond processes (Đà Nẵng, two levels):
// minutes attached to the agenda's cases through the case service, the
// WatchRoom stream and its resumption, and a federated room: the commune
// bridge 48-29 joins a room hosted by the city node 48, relays its citizen's
// calls and the room's events, shows the room unreachable while the city
// node is stopped and rejoins when it is back; the city marks the bridge
// disconnected while its link is down.
#include <signal.h>

#include <filesystem>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "gtest/gtest.h"
#include "reception/cases/v1/case_service.grpc.pb.h"
#include "reception/federation/v1/case_federation.grpc.pb.h"
#include "reception/media/v1/media_service.grpc.pb.h"
#include "services/common/test_support.h"
#include "tests/integration/node_process.h"

namespace reception::testing {
namespace {

namespace mv1 = media::v1;
namespace cv1 = cases::v1;

std::string g_receptiond;

struct Who {
  std::string subject, role, unit;
};
const Who kChair{"chairman.son", "head", "48"};
const Who kOfficer{"officer.lan", "officer", "48"};
const Who kCommuneOfficer{"officer.mai", "officer", "48-29"};
const Who kCitizen{"citizen.an", "viewer", "48-29"};

template <typename Stub, typename Req, typename Resp>
absl::StatusOr<Resp> Call(Stub* stub,
                          grpc::Status (Stub::*m)(grpc::ClientContext*, const Req&, Resp*),
                          const Req& req, const Who& who) {
  return CallAs(stub, m, req, who.role, who.unit, who.subject);
}

// Collects a WatchRoom stream on a thread.
class Watch {
 public:
  Watch(mv1::MediaService::Stub* stub, const std::string& room, int64_t after, const Who& who) {
    AddPrincipal(&ctx_, who.role, who.unit, who.subject);
    mv1::WatchRoomRequest req;
    req.set_name(room);
    req.set_after_sequence(after);
    reader_ = stub->WatchRoom(&ctx_, req);
    thread_ = std::thread([this] {
      mv1::RoomEvent e;
      while (reader_->Read(&e)) {
        absl::MutexLock lock(&mu_);
        events_.push_back(e);
      }
      grpc::Status s = reader_->Finish();
      absl::MutexLock lock(&mu_);
      status_ = s;
      done_ = true;
    });
  }
  ~Watch() {
    ctx_.TryCancel();
    thread_.join();
  }
  std::vector<mv1::RoomEvent> events() const {
    absl::MutexLock lock(&mu_);
    return events_;
  }
  bool Saw(const std::string& kind) const {
    for (const auto& e : events()) {
      if (e.kind() == kind) return true;
    }
    return false;
  }
  bool done() const {
    absl::MutexLock lock(&mu_);
    return done_;
  }
  grpc::Status status() const {
    absl::MutexLock lock(&mu_);
    return status_;
  }

 private:
  grpc::ClientContext ctx_;
  std::unique_ptr<grpc::ClientReader<mv1::RoomEvent>> reader_;
  std::thread thread_;
  mutable absl::Mutex mu_;
  std::vector<mv1::RoomEvent> events_;
  grpc::Status status_;
  bool done_ = false;
};

NodeProcess::Options NodeOptions(const TempDir& dir, const std::string& unit, int port,
                                 std::vector<std::pair<std::string, std::string>> peers = {}) {
  const std::string work = dir.Join(unit);
  std::filesystem::create_directories(work);
  NodeProcess::Options o;
  o.binary = g_receptiond;
  o.unit_code = unit;
  o.work_dir = work;
  o.listen_port = port;
  o.sync_policy = "none";
  o.peers = std::move(peers);
  return o;
}

const mv1::Participant* Find(const mv1::Room& room, const std::string& id) {
  for (const auto& p : room.participants()) {
    if (p.id() == id) return &p;
  }
  return nullptr;
}

std::string Token(mv1::MediaService::Stub* stub, const std::string& room, const std::string& role,
                  const std::string& unit, const Who& subject, const Who& issuer) {
  mv1::IssueJoinTokenRequest r;
  r.set_name(room);
  r.set_role(role);
  r.set_unit(unit);
  r.set_subject(subject.subject);
  auto t = Call(stub, &mv1::MediaService::Stub::IssueJoinToken, r, issuer);
  EXPECT_TRUE(t.ok()) << t.status();
  return t.ok() ? t->token() : "";
}

std::string Join(mv1::MediaService::Stub* stub, const std::string& room, const std::string& token,
                 const Who& who) {
  mv1::JoinRoomRequest r;
  r.set_name(room);
  r.set_join_token(token);
  auto j = Call(stub, &mv1::MediaService::Stub::JoinRoom, r, who);
  EXPECT_TRUE(j.ok()) << j.status();
  return j.ok() ? j->participant() : "";
}

TEST(MediaNode, SignedMinutesReachTheAgendaCasesAndWatchRoomResumes) {
  TempDir dir;
  NodeProcess node(NodeOptions(dir, "48", 0));
  ASSERT_TRUE(node.Start().ok()) << ReadFile(node.log_path());
  auto cases = cv1::CaseService::NewStub(node.NewChannel());
  auto media = mv1::MediaService::NewStub(node.NewChannel());

  auto c = Call(cases.get(), &cv1::CaseService::Stub::CreateCase,
                SampleCase(cv1::CASE_KIND_COMPLAINT, "m-1", "48-29", absl::CivilDay(2026, 11, 20),
                           "Khiếu nại việc cấp giấy chứng nhận quyền sử dụng đất"),
                kOfficer);
  ASSERT_TRUE(c.ok()) << c.status();

  mv1::CreateRoomRequest create;
  create.set_room_id("tcd-2026-11-27");
  create.set_session("sessions/2026-11-27-online");
  create.add_agenda_cases(c->name());
  auto* bridge = create.add_bridges();
  bridge->set_unit("48-29");
  bridge->set_sip_uri("sip:cau-tay-giang@10.48.29.2");
  // Bad input is named.
  auto bad = create;
  bad.mutable_bridges(0)->set_sip_uri("tel:0236 123");
  auto refused = Call(media.get(), &mv1::MediaService::Stub::CreateRoom, bad, kOfficer);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(refused.status().message(), "bridges[0].sip_uri"))
      << refused.status();
  bad = create;
  bad.mutable_bridges(0)->set_unit("99-1");
  refused = Call(media.get(), &mv1::MediaService::Stub::CreateRoom, bad, kOfficer);
  EXPECT_TRUE(absl::StrContains(refused.status().message(), "bridges[0].unit")) << refused.status();
  bad = create;
  bad.add_agenda_cases("48-2026-000001");
  refused = Call(media.get(), &mv1::MediaService::Stub::CreateRoom, bad, kOfficer);
  EXPECT_TRUE(absl::StrContains(refused.status().message(), "agenda_cases[1]")) << refused.status();

  auto room = Call(media.get(), &mv1::MediaService::Stub::CreateRoom, create, kOfficer);
  ASSERT_TRUE(room.ok()) << room.status();
  const std::string name = room->name();
  EXPECT_EQ(room->session(), "sessions/2026-11-27-online");
  ASSERT_EQ(room->bridges_size(), 1);
  EXPECT_EQ(room->bridges(0).sip_uri(), "sip:cau-tay-giang@10.48.29.2");

  Watch all(media.get(), name, 0, kOfficer);
  mv1::OpenRoomRequest open;
  open.set_name(name);
  ASSERT_TRUE(Call(media.get(), &mv1::MediaService::Stub::OpenRoom, open, kOfficer).ok());
  const std::string chair = Join(
      media.get(), name, Token(media.get(), name, "presiding", "48", kChair, kOfficer), kChair);
  const std::string an =
      Join(media.get(), name, Token(media.get(), name, "citizen", "48-29", kCitizen, kOfficer),
           kCitizen);
  ASSERT_FALSE(chair.empty());
  ASSERT_FALSE(an.empty());
  mv1::AdmitParticipantRequest admit;
  admit.set_name(name);
  admit.set_participant(chair);
  admit.set_target(an);
  ASSERT_TRUE(Call(media.get(), &mv1::MediaService::Stub::AdmitParticipant, admit, kChair).ok());
  mv1::UpdateMinutesRequest minutes;
  minutes.set_name(name);
  minutes.set_participant(chair);
  minutes.mutable_minutes()->set_place("Trụ sở Ban Tiếp công dân thành phố");
  auto* st = minutes.mutable_minutes()->add_statements();
  st->set_participant(an);
  st->set_summary("Đề nghị cấp giấy chứng nhận đúng diện tích thực tế");
  minutes.mutable_minutes()->set_conclusions("Giao UBND xã kiểm tra, trả lời trong 10 ngày");
  ASSERT_TRUE(Call(media.get(), &mv1::MediaService::Stub::UpdateMinutes, minutes, kChair).ok());
  mv1::SignMinutesRequest sign;
  sign.set_name(name);
  sign.set_participant(chair);
  ASSERT_TRUE(Call(media.get(), &mv1::MediaService::Stub::SignMinutes, sign, kChair).ok());
  sign.set_participant(an);
  auto signed_room = Call(media.get(), &mv1::MediaService::Stub::SignMinutes, sign, kCitizen);
  ASSERT_TRUE(signed_room.ok()) << signed_room.status();
  EXPECT_TRUE(signed_room->minutes().locked());

  // The attachment is made by the media service through the case service.
  mv1::GetRoomRequest get;
  get.set_name(name);
  ASSERT_TRUE(WaitFor(
      [&] {
        auto r = Call(media.get(), &mv1::MediaService::Stub::GetRoom, get, kOfficer);
        return r.ok() && r->minutes_attachments_size() == 1 &&
               r->minutes_attachments(0).state() == mv1::ATTACHMENT_STATE_ATTACHED;
      },
      absl::Seconds(20)))
      << ReadFile(node.log_path());
  cv1::GetCaseRequest gc;
  gc.set_name(c->name());
  auto with_minutes = Call(cases.get(), &cv1::CaseService::Stub::GetCase, gc, kOfficer);
  ASSERT_TRUE(with_minutes.ok());
  ASSERT_EQ(with_minutes->minutes_size(), 1);
  EXPECT_EQ(with_minutes->minutes(0).room(), name);
  EXPECT_TRUE(absl::StrContains(with_minutes->minutes(0).text(), "Giao UBND xã kiểm tra"));
  EXPECT_TRUE(absl::StrContains(with_minutes->minutes(0).text(), "Ký: " + an));
  cv1::GetCaseHistoryRequest gh;
  gh.set_name(c->name());
  auto history = Call(cases.get(), &cv1::CaseService::Stub::GetCaseHistory, gh, kOfficer);
  ASSERT_TRUE(history.ok());
  EXPECT_EQ(history->events(history->events_size() - 1).action(), "AttachCaseMinutes");

  // AttachCaseMinutes is internal (reception.federation.v1) and takes only
  // what the room vouches for, even from this node's own certificate.
  auto other = Call(cases.get(), &cv1::CaseService::Stub::CreateCase,
                    SampleCase(cv1::CASE_KIND_COMPLAINT, "m-2", "48-29",
                               absl::CivilDay(2026, 11, 20), "Khiếu nại việc thu hồi đất"),
                    kOfficer);
  ASSERT_TRUE(other.ok()) << other.status();
  auto own_node = federation::v1::CaseFederationService::NewStub(node.NewChannelAs("48"));
  auto peer_node = federation::v1::CaseFederationService::NewStub(node.NewChannelAs("48-29"));
  auto officer = federation::v1::CaseFederationService::NewStub(node.NewChannel());
  federation::v1::AttachCaseMinutesRequest forged;
  forged.set_name(other->name());  // not on the room's agenda
  forged.set_room(name);
  forged.set_text(with_minutes->minutes(0).text());
  forged.mutable_lock_time()->set_seconds(with_minutes->minutes(0).lock_time().seconds());
  auto attach = [&](federation::v1::CaseFederationService::Stub* stub,
                    const federation::v1::AttachCaseMinutesRequest& r, const Who& who) {
    return CallAs(stub, &federation::v1::CaseFederationService::Stub::AttachCaseMinutes, r,
                  who.role, who.unit, who.subject);
  };
  const Who kNode48{"node", "node", "48"};
  auto not_listed = attach(own_node.get(), forged, kNode48);
  EXPECT_EQ(not_listed.status().code(), absl::StatusCode::kPermissionDenied) << not_listed.status();
  auto altered = forged;
  altered.set_name(c->name());
  altered.set_text("BIÊN BẢN bị sửa: công dân rút đơn");
  auto text = attach(own_node.get(), altered, kNode48);
  EXPECT_EQ(text.status().code(), absl::StatusCode::kFailedPrecondition) << text.status();
  auto no_room = forged;
  no_room.set_room("rooms/khong-co");
  EXPECT_EQ(attach(own_node.get(), no_room, kNode48).status().code(), absl::StatusCode::kNotFound);
  // Another node's certificate, and any person's token, never get that far.
  auto peer = attach(peer_node.get(), altered, Who{"node", "node", "48-29"});
  EXPECT_EQ(peer.status().code(), absl::StatusCode::kPermissionDenied) << peer.status();
  auto person = attach(officer.get(), altered, kOfficer);
  EXPECT_EQ(person.status().code(), absl::StatusCode::kPermissionDenied) << person.status();
  EXPECT_TRUE(absl::StrContains(person.status().message(), "reception.federation.v1"))
      << person.status();
  cv1::GetCaseRequest g2;
  g2.set_name(other->name());
  auto untouched = Call(cases.get(), &cv1::CaseService::Stub::GetCase, g2, kOfficer);
  ASSERT_TRUE(untouched.ok());
  EXPECT_EQ(untouched->minutes_size(), 0);
  EXPECT_EQ(untouched->version(), other->version());
  auto still = Call(cases.get(), &cv1::CaseService::Stub::GetCase, gc, kOfficer);
  ASSERT_TRUE(still.ok());
  EXPECT_EQ(still->version(), with_minutes->version());

  // Locked: no more drafting.
  EXPECT_EQ(
      Call(media.get(), &mv1::MediaService::Stub::UpdateMinutes, minutes, kChair).status().code(),
      absl::StatusCode::kFailedPrecondition);

  // The stream saw every event in order, without gaps.
  ASSERT_TRUE(WaitFor([&] { return all.Saw("minutes_attached"); }, absl::Seconds(10)));
  auto seen = all.events();
  for (size_t i = 0; i < seen.size(); ++i)
    EXPECT_EQ(seen[i].sequence(), static_cast<int64_t>(i + 1));
  // A client that reconnects resumes after the last it saw.
  const int64_t resume = seen[4].sequence();
  Watch resumed(media.get(), name, resume, kCitizen);
  ASSERT_TRUE(
      WaitFor([&] { return resumed.events().size() + resume >= seen.size(); }, absl::Seconds(10)));
  EXPECT_EQ(resumed.events().front().sequence(), resume + 1);
  EXPECT_EQ(resumed.events().front().kind(), seen[5].kind());

  // Closing the room ends the streams.
  mv1::CloseRoomRequest close;
  close.set_name(name);
  ASSERT_TRUE(Call(media.get(), &mv1::MediaService::Stub::CloseRoom, close, kOfficer).ok());
  ASSERT_TRUE(WaitFor([&] { return all.done() && resumed.done(); }, absl::Seconds(10)));
  EXPECT_TRUE(all.status().ok()) << all.status().error_message();
  EXPECT_EQ(all.events().back().kind(), "closed");

  // Streams on unknown rooms and bad sequences are refused.
  Watch unknown(media.get(), "rooms/nope", 0, kOfficer);
  ASSERT_TRUE(WaitFor([&] { return unknown.done(); }, absl::Seconds(10)));
  EXPECT_EQ(unknown.status().error_code(), grpc::StatusCode::NOT_FOUND);
  // Survives a restart: the attachment is not made twice.
  ASSERT_EQ(node.Stop(), 0);
  ASSERT_TRUE(node.Start().ok());
  cases = cv1::CaseService::NewStub(node.NewChannel());
  with_minutes = Call(cases.get(), &cv1::CaseService::Stub::GetCase, gc, kOfficer);
  ASSERT_TRUE(with_minutes.ok());
  EXPECT_EQ(with_minutes->minutes_size(), 1);
}

// A host frozen with SIGSTOP (the link cut silently, no reset): with
// media.heartbeat_timeout_seconds 4, the commune shows the link unreachable
// within about that long (not the 30 s of a fixed keepalive), and a
// citizen's relayed call fails within the relay deadline (2 s here).
TEST(MediaNode, AFrozenHostIsNoticedWithinTheConfiguredTimeout) {
  TempDir dir;
  const int city_port = NodeProcess::FreePort();
  auto fast = [](NodeProcess::Options o) {
    o.extra_config = "media:\n  heartbeat_timeout_seconds: 4\n";
    return o;
  };
  NodeProcess city(fast(NodeOptions(dir, "48", city_port)));
  ASSERT_TRUE(city.Start().ok()) << ReadFile(city.log_path());
  NodeProcess commune(fast(NodeOptions(dir, "48-29", 0, {{"48", city.address()}})));
  ASSERT_TRUE(commune.Start().ok()) << ReadFile(commune.log_path());
  auto host = mv1::MediaService::NewStub(city.NewChannel());
  auto bridge = mv1::MediaService::NewStub(commune.NewChannel());
  mv1::CreateRoomRequest create;
  create.set_room_id("tcd-dong-bang");
  create.add_bridges()->set_unit("48-29");
  auto room = Call(host.get(), &mv1::MediaService::Stub::CreateRoom, create, kOfficer);
  ASSERT_TRUE(room.ok()) << room.status();
  mv1::OpenRoomRequest open;
  open.set_name(room->name());
  ASSERT_TRUE(Call(host.get(), &mv1::MediaService::Stub::OpenRoom, open, kOfficer).ok());
  mv1::ConnectBridgeRequest connect;
  connect.set_name(room->name());
  connect.set_host_unit("48");
  auto linked =
      Call(bridge.get(), &mv1::MediaService::Stub::ConnectBridge, connect, kCommuneOfficer);
  ASSERT_TRUE(linked.ok()) << linked.status();
  ASSERT_EQ(linked->link().state(), mv1::LINK_STATE_CONNECTED) << linked->link().error();
  mv1::GetRoomRequest get;
  get.set_name(room->name());
  auto state = [&] {
    auto r = Call(bridge.get(), &mv1::MediaService::Stub::GetRoom, get, kCitizen);
    return r.ok() ? r->link().state() : mv1::LINK_STATE_UNSPECIFIED;
  };
  // Frozen, not stopped: the sockets stay open and nothing answers. The
  // link has pinged at the new rate for a while (the city accepts it).
  absl::SleepFor(absl::Seconds(3));
  ASSERT_EQ(state(), mv1::LINK_STATE_CONNECTED);
  ASSERT_EQ(kill(city.pid(), SIGSTOP), 0);
  const absl::Time frozen = absl::Now();
  ASSERT_TRUE(WaitFor([&] { return state() == mv1::LINK_STATE_UNREACHABLE; }, absl::Seconds(20)));
  const absl::Duration noticed = absl::Now() - frozen;
  EXPECT_LT(noticed, absl::Seconds(9)) << noticed;
  mv1::IssueJoinTokenRequest issue;
  issue.set_name(room->name());
  issue.set_role("citizen");
  issue.set_unit("48-29");
  issue.set_subject("cd-1");
  const absl::Time asked = absl::Now();
  auto relayed =
      Call(bridge.get(), &mv1::MediaService::Stub::IssueJoinToken, issue, kCommuneOfficer);
  EXPECT_FALSE(relayed.ok());
  EXPECT_LT(absl::Now() - asked, absl::Seconds(4)) << relayed.status();
  ASSERT_EQ(kill(city.pid(), SIGCONT), 0);
  ASSERT_TRUE(WaitFor([&] { return state() == mv1::LINK_STATE_CONNECTED; }, absl::Seconds(30)));
}

TEST(MediaNode, CommuneBridgeJoinsTheCityRoomLosesTheLinkAndRejoins) {
  TempDir dir;
  const int city_port = NodeProcess::FreePort();
  NodeProcess city(NodeOptions(dir, "48", city_port));
  ASSERT_TRUE(city.Start().ok()) << ReadFile(city.log_path());
  NodeProcess commune(NodeOptions(dir, "48-29", 0, {{"48", city.address()}}));
  ASSERT_TRUE(commune.Start().ok()) << ReadFile(commune.log_path());
  auto host = mv1::MediaService::NewStub(city.NewChannel());
  auto bridge = mv1::MediaService::NewStub(commune.NewChannel());

  mv1::CreateRoomRequest create;
  create.set_room_id("tcd-lien-thong");
  create.add_bridges()->set_unit("48-29");
  auto room = Call(host.get(), &mv1::MediaService::Stub::CreateRoom, create, kOfficer);
  ASSERT_TRUE(room.ok()) << room.status();
  const std::string name = room->name();
  mv1::OpenRoomRequest open;
  open.set_name(name);
  ASSERT_TRUE(Call(host.get(), &mv1::MediaService::Stub::OpenRoom, open, kOfficer).ok());
  const std::string chair =
      Join(host.get(), name, Token(host.get(), name, "presiding", "48", kChair, kOfficer), kChair);

  // The commune's staff connect its bridge: the node joins as the site.
  mv1::ConnectBridgeRequest connect;
  connect.set_name(name);
  connect.set_host_unit("48");
  auto linked =
      Call(bridge.get(), &mv1::MediaService::Stub::ConnectBridge, connect, kCommuneOfficer);
  ASSERT_TRUE(linked.ok()) << linked.status();
  EXPECT_EQ(linked->link().state(), mv1::LINK_STATE_CONNECTED) << linked->link().error();
  const std::string site = linked->link().site_participant();
  ASSERT_FALSE(site.empty());
  mv1::GetRoomRequest get;
  get.set_name(name);
  auto host_view = [&] {
    return Call(host.get(), &mv1::MediaService::Stub::GetRoom, get, kOfficer);
  };
  auto bridge_view = [&] {
    return Call(bridge.get(), &mv1::MediaService::Stub::GetRoom, get, kCitizen);
  };
  ASSERT_TRUE(WaitFor(
      [&] {
        auto r = host_view();
        return r.ok() && r->bridges(0).presence() == mv1::PRESENCE_IN_ROOM;
      },
      absl::Seconds(10)));
  // Another unit's bridge may not be connected with the wrong host, and a
  // commune may not issue tokens for another site or the presiding official.
  mv1::IssueJoinTokenRequest wrong;
  wrong.set_name(name);
  wrong.set_role("presiding");
  wrong.set_unit("48-29");
  wrong.set_subject("someone");
  EXPECT_EQ(Call(bridge.get(), &mv1::MediaService::Stub::IssueJoinToken, wrong, kCommuneOfficer)
                .status()
                .code(),
            absl::StatusCode::kPermissionDenied);
  wrong.set_role("citizen");
  wrong.set_unit("48-1");
  auto other_site =
      Call(bridge.get(), &mv1::MediaService::Stub::IssueJoinToken, wrong, kCommuneOfficer);
  EXPECT_EQ(other_site.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(other_site.status().message(), "unit")) << other_site.status();

  // A citizen at the commune talks only to the commune's node.
  Watch local(bridge.get(), name, 0, kCitizen);
  const std::string an =
      Join(bridge.get(), name,
           Token(bridge.get(), name, "citizen", "48-29", kCitizen, kCommuneOfficer), kCitizen);
  ASSERT_FALSE(an.empty());
  mv1::AdmitParticipantRequest admit;
  admit.set_name(name);
  admit.set_participant(chair);
  admit.set_target(an);
  ASSERT_TRUE(Call(host.get(), &mv1::MediaService::Stub::AdmitParticipant, admit, kChair).ok());
  mv1::RaiseHandRequest hand;
  hand.set_name(name);
  hand.set_participant(an);
  hand.set_raised(true);
  ASSERT_TRUE(Call(bridge.get(), &mv1::MediaService::Stub::RaiseHand, hand, kCitizen).ok());
  auto seen_by_host = host_view();
  ASSERT_TRUE(seen_by_host.ok());
  ASSERT_EQ(seen_by_host->hand_queue_size(), 1);
  EXPECT_EQ(seen_by_host->hand_queue(0), an);
  mv1::GrantFloorRequest grant;
  grant.set_name(name);
  grant.set_participant(chair);
  grant.set_target(an);
  ASSERT_TRUE(Call(host.get(), &mv1::MediaService::Stub::GrantFloor, grant, kChair).ok());
  // The host's events reach the commune's watchers and its copy of the room.
  ASSERT_TRUE(WaitFor([&] { return local.Saw("floor_granted"); }, absl::Seconds(10)));
  ASSERT_TRUE(WaitFor(
      [&] {
        auto r = bridge_view();
        return r.ok() && r->floor_holder() == an;
      },
      absl::Seconds(10)));

  // The link is cut: the city node stops.
  ASSERT_EQ(city.Stop(), 0);
  ASSERT_TRUE(WaitFor(
      [&] {
        auto r = bridge_view();
        return r.ok() && r->link().state() == mv1::LINK_STATE_UNREACHABLE;
      },
      absl::Seconds(15)));
  EXPECT_EQ(bridge_view()->floor_holder(), an);  // the last known room is still shown
  auto cut = Call(bridge.get(), &mv1::MediaService::Stub::RaiseHand, hand, kCitizen);
  EXPECT_EQ(cut.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(absl::StrContains(cut.status().message(), "hosted by unit 48")) << cut.status();
  // With the details every error carries: the reason, and when to retry
  // (the link's own backoff, at least a second).
  google::rpc::Status details;
  ASSERT_TRUE(details.ParseFromString(std::string(*cut.status().GetPayload(kDetailsPayload))));
  google::rpc::ErrorInfo why;
  ASSERT_TRUE(details.details(0).UnpackTo(&why));
  EXPECT_EQ(why.reason(), "UNAVAILABLE");
  google::rpc::RetryInfo retry;
  ASSERT_TRUE(details.details(1).UnpackTo(&retry));
  EXPECT_GE(retry.retry_delay().seconds(), 1);
  EXPECT_FALSE(local.done());  // the local stream stays open across the outage
  // Ops see it in the commune's metrics.
  EXPECT_TRUE(
      absl::StrContains(ScrapeMetrics(commune.admin_port()),
                        "reception_media_bridge_links{host_unit=\"48\",state=\"unreachable\"} 1"))
      << ScrapeMetrics(commune.admin_port());

  // The city node comes back: the bridge was marked disconnected there (its
  // stream could not survive the restart), then the commune rejoins.
  ASSERT_TRUE(city.Start().ok()) << ReadFile(city.log_path());
  host = mv1::MediaService::NewStub(city.NewChannel());
  ASSERT_TRUE(WaitFor(
      [&] {
        auto r = bridge_view();
        return r.ok() && r->link().state() == mv1::LINK_STATE_CONNECTED;
      },
      absl::Seconds(20)))
      << ReadFile(commune.log_path());
  ASSERT_TRUE(WaitFor(
      [&] {
        auto r = host_view();
        return r.ok() && r->bridges(0).presence() == mv1::PRESENCE_IN_ROOM;
      },
      absl::Seconds(10)));
  mv1::ListRoomEventsRequest list;
  list.set_name(name);
  list.set_page_size(1000);
  auto events = Call(host.get(), &mv1::MediaService::Stub::ListRoomEvents, list, kOfficer);
  ASSERT_TRUE(events.ok());
  int disconnected_at = -1, rejoined_at = -1;
  for (int i = 0; i < events->events_size(); ++i) {
    const auto& e = events->events(i);
    if (e.participant() != site) continue;
    if (e.kind() == "disconnected") disconnected_at = i;
    if (e.kind() == "rejoined" && disconnected_at >= 0) rejoined_at = i;
  }
  EXPECT_GE(disconnected_at, 0);
  const std::string city_metrics = ScrapeMetrics(city.admin_port());
  EXPECT_TRUE(absl::StrContains(city_metrics, "reception_media_rooms{state=\"open\"} 1"))
      << city_metrics;
  EXPECT_TRUE(absl::StrContains(city_metrics, "reception_media_watch_streams 1")) << city_metrics;
  EXPECT_GT(rejoined_at, disconnected_at);
  // The relay works again, and the local stream carries on in order.
  mv1::ReleaseFloorRequest release;
  release.set_name(name);
  release.set_participant(an);
  ASSERT_TRUE(Call(bridge.get(), &mv1::MediaService::Stub::ReleaseFloor, release, kCitizen).ok());
  ASSERT_TRUE(WaitFor([&] { return local.Saw("floor_released"); }, absl::Seconds(10)));
  auto got = local.events();
  for (size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i].sequence(), static_cast<int64_t>(i + 1));

  // The commune's node dies: the city marks the bridge disconnected at once
  // (its stream ended); it rejoins when the node is back (the bridged room
  // is durable).
  commune.Kill();
  ASSERT_TRUE(WaitFor(
      [&] {
        auto r = host_view();
        return r.ok() && r->bridges(0).presence() == mv1::PRESENCE_DISCONNECTED;
      },
      absl::Seconds(10)));
  ASSERT_TRUE(commune.Start().ok());
  bridge = mv1::MediaService::NewStub(commune.NewChannel());
  ASSERT_TRUE(WaitFor(
      [&] {
        auto r = host_view();
        return r.ok() && r->bridges(0).presence() == mv1::PRESENCE_IN_ROOM;
      },
      absl::Seconds(20)))
      << ReadFile(commune.log_path());
  ASSERT_TRUE(WaitFor(
      [&] {
        auto r = bridge_view();
        auto h = host_view();
        return r.ok() && h.ok() && r->link().state() == mv1::LINK_STATE_CONNECTED &&
               r->last_event_sequence() == h->last_event_sequence() && r->floor_holder().empty();
      },
      absl::Seconds(10)));

  // The host closes the room: the link ends.
  mv1::CloseRoomRequest close;
  close.set_name(name);
  ASSERT_TRUE(Call(host.get(), &mv1::MediaService::Stub::CloseRoom, close, kOfficer).ok());
  ASSERT_TRUE(WaitFor(
      [&] {
        auto r = bridge_view();
        return r.ok() && r->link().state() == mv1::LINK_STATE_ENDED &&
               r->state() == mv1::ROOM_STATE_CLOSED;
      },
      absl::Seconds(10)));
  // The denouncer-secrecy rule does not apply here, but no citizen subject
  // leaks into the logs of either node.
  EXPECT_FALSE(absl::StrContains(ReadFile(city.log_path()), "citizen.an"));
  EXPECT_FALSE(absl::StrContains(ReadFile(commune.log_path()), "citizen.an"));
}

}  // namespace
}  // namespace reception::testing

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  if (argc < 2) {
    fprintf(stderr, "usage: media_node_test <receptiond>\n");
    return 2;
  }
  reception::testing::g_receptiond = argv[1];
  return RUN_ALL_TESTS();
}
