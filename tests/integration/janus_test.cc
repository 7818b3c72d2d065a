// The Janus media backend against a real Janus (Debian's janus package)
// started by the test on 127.0.0.1 with a temporary configuration: rooms are
// opened, kicked from and closed, Janus's own room list is checked, and a
// Janus restart is survived (open rooms provisioned again). Then the whole
// path through a real receptiond configured with the janus backend: a
// participant joins the Janus room the way a client does (HTTP API, the id,
// PIN and token from JoinRoom), and a moderator's RemoveParticipant kicks it
// out of Janus's participant list.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "reception/media/v1/media_service.grpc.pb.h"
#include "services/common/test_support.h"
#include "services/media/media_backend.h"
#include "tests/integration/node_process.h"

namespace reception::testing {
namespace {

std::string g_receptiond;

using media::MediaRoom;

class Janus {
 public:
  Janus() : port_(NodeProcess::FreePort()) {
    const std::string lib = "/usr/lib/x86_64-linux-gnu/janus";
    WriteFile(
        dir_.Join("janus.jcfg"),
        absl::StrCat(
            "general: {\n  configs_folder = \"", dir_.path(), "\"\n  plugins_folder = \"", lib,
            "/plugins\"\n  transports_folder = \"", lib, "/transports\"\n  events_folder = \"", lib,
            "/events\"\n  loggers_folder = \"", lib,
            "/loggers\"\n  debug_level = 3\n  session_timeout = 60\n}\n"
            "certificates: {}\nmedia: {}\nnat: { ice_ignore_list = \"vmnet\" }\n"
            "plugins: { disable = \"libjanus_audiobridge.so,libjanus_duktape.so,"
            "libjanus_echotest.so,libjanus_lua.so,libjanus_nosip.so,libjanus_recordplay.so,"
            "libjanus_sip.so,libjanus_streaming.so,libjanus_textroom.so,libjanus_videocall.so,"
            "libjanus_voicemail.so\" }\n"
            "transports: { disable = \"libjanus_mqtt.so,libjanus_nanomsg.so,libjanus_pfunix.so,"
            "libjanus_rabbitmq.so,libjanus_websockets.so\" }\n"
            "events: { broadcast = false }\nloggers: { disable = \"libjanus_jsonlog.so\" }\n"));
    WriteFile(dir_.Join("janus.transport.http.jcfg"),
              absl::StrCat(
                  "general: { json = \"plain\", base_path = \"/janus\", http = true, port = ",
                  port_, ", ip = \"127.0.0.1\", https = false }\nadmin: { admin_http = false }\n"));
    WriteFile(dir_.Join("janus.plugin.videoroom.jcfg"), "general: { }\n");
  }
  ~Janus() { Stop(); }

  std::string url() const { return absl::StrCat("http://127.0.0.1:", port_, "/janus"); }

  bool Start() {
    pid_ = fork();
    if (pid_ == 0) {
      const std::string log = dir_.Join("janus.log");
      freopen(log.c_str(), "a", stdout);
      freopen(log.c_str(), "a", stderr);
      const std::string config = dir_.Join("janus.jcfg");
      execlp("janus", "janus", "-C", config.c_str(), "-F", dir_.path().c_str(), nullptr);
      _exit(127);
    }
    // Up when its HTTP API answers.
    return WaitFor(
        [&] {
          auto b = media::NewJanusBackend(url());
          return b->ListRooms().ok();
        },
        absl::Seconds(20));
  }
  void Stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  std::string log() const { return ReadFile(dir_.Join("janus.log")); }

 private:
  TempDir dir_;
  int port_;
  pid_t pid_ = -1;
};

bool Has(const std::vector<uint64_t>& rooms, uint64_t room) {
  return std::find(rooms.begin(), rooms.end(), room) != rooms.end();
}

TEST(JanusBackend, OpensKicksClosesAndSurvivesARestart) {
  Janus janus;
  ASSERT_TRUE(janus.Start()) << "janus did not start (installed by tools/dev/setup.sh):\n"
                             << janus.log();
  auto backend = media::NewJanusBackend(janus.url());
  MediaRoom room{71001, "Phiên tiếp công dân trực tuyến", "s3cret", "2468", {"tok-a"}, 6};
  ASSERT_TRUE(backend->OpenRoom(room).ok());
  ASSERT_TRUE(backend->OpenRoom(room).ok());  // idempotent
  auto rooms = backend->ListRooms();
  ASSERT_TRUE(rooms.ok()) << rooms.status();
  EXPECT_TRUE(Has(*rooms, 71001));
  ASSERT_TRUE(backend->AllowToken(room, "tok-b").ok());
  // Janus reports plugin errors inside "success" replies: they come back as
  // clear errors.
  auto kick = backend->Kick(room, 99);
  EXPECT_EQ(kick.code(), absl::StatusCode::kNotFound);
  EXPECT_NE(kick.message().find("No such user 99"), std::string::npos) << kick;
  MediaRoom wrong_secret = room;
  wrong_secret.secret = "nope";
  EXPECT_EQ(backend->Kick(wrong_secret, 99).code(), absl::StatusCode::kPermissionDenied);

  // Janus restarts: the next call opens a new session and provisions the
  // open room again.
  janus.Stop();
  EXPECT_EQ(backend->ListRooms().status().code(), absl::StatusCode::kUnavailable);
  ASSERT_TRUE(janus.Start()) << janus.log();
  ASSERT_TRUE(WaitFor(
      [&] {
        auto r = backend->ListRooms();
        return r.ok() && Has(*r, 71001);
      },
      absl::Seconds(20)));

  ASSERT_TRUE(backend->CloseRoom(room).ok());
  ASSERT_TRUE(backend->CloseRoom(room).ok());  // idempotent
  rooms = backend->ListRooms();
  ASSERT_TRUE(rooms.ok());
  EXPECT_FALSE(Has(*rooms, 71001));
  const auto access = backend->AccessFor(room, "tok-a");
  EXPECT_EQ(access.backend, "janus");
  EXPECT_EQ(access.room, 71001u);
  EXPECT_EQ(access.pin, "2468");
}

TEST(NoneBackend, IsTheControlPlaneAlone) {
  auto backend = media::NewNoneBackend();
  EXPECT_TRUE(backend->OpenRoom({1, "r"}).ok());
  EXPECT_TRUE(backend->ListRooms()->empty());
  EXPECT_EQ(backend->AccessFor({1, "r"}, "t").backend, "none");
}

// A client of Janus's HTTP API, as a participant's application uses it.
class JanusClient {
 public:
  explicit JanusClient(std::string url) : url_(std::move(url)) {}
  nlohmann::json Post(const std::string& path, nlohmann::json body) {
    body["transaction"] = absl::StrCat("t", ++transaction_);
    const std::string payload = body.dump();
    const std::string reply = HttpRequest(url_ + path, &payload);
    if (reply.empty()) return nlohmann::json{{"janus", "error"}};
    return nlohmann::json::parse(reply, nullptr, false);
  }
  // A session with the VideoRoom plugin attached: "/{session}/{handle}".
  std::string Attach() {
    auto session = Post("", {{"janus", "create"}});
    auto handle = Post(absl::StrCat("/", session["data"]["id"].get<uint64_t>()),
                       {{"janus", "attach"}, {"plugin", "janus.plugin.videoroom"}});
    return absl::StrCat("/", session["data"]["id"].get<uint64_t>(), "/",
                        handle["data"]["id"].get<uint64_t>());
  }
  std::vector<uint64_t> Participants(uint64_t room) {
    if (admin_.empty()) admin_ = Attach();
    auto r = Post(admin_, {{"janus", "message"},
                           {"body", {{"request", "listparticipants"}, {"room", room}}}});
    std::vector<uint64_t> ids;
    const auto& data = r["plugindata"]["data"];
    if (data.contains("participants")) {
      for (const auto& p : data["participants"]) ids.push_back(p["id"].get<uint64_t>());
    }
    return ids;
  }

 private:
  std::string url_;
  std::string admin_;
  int transaction_ = 0;
};

TEST(JanusMedia, RemovedParticipantIsKickedFromTheJanusRoom) {
  Janus janus;
  ASSERT_TRUE(janus.Start()) << janus.log();
  TempDir dir;
  NodeProcess::Options o;
  o.binary = g_receptiond;
  o.unit_code = "48";
  o.work_dir = dir.path();
  o.sync_policy = "none";
  o.extra_config = absl::StrCat("media:\n  backend: janus\n  janus_url: \"", janus.url(), "\"\n");
  NodeProcess node(o);
  ASSERT_TRUE(node.Start().ok()) << ReadFile(node.log_path());
  auto media = media::v1::MediaService::NewStub(node.NewChannel());
  auto call = [&](auto method, const auto& req, auto* resp, const std::string& subject,
                  const std::string& role) {
    grpc::ClientContext ctx;
    AddPrincipal(&ctx, role, "48", subject);
    return (media.get()->*method)(&ctx, req, resp);
  };
  namespace mv1 = media::v1;
  mv1::CreateRoomRequest create;
  create.set_room_id("janus-kick");
  mv1::Room room;
  ASSERT_TRUE(
      call(&mv1::MediaService::Stub::CreateRoom, create, &room, "officer.lan", "officer").ok());
  mv1::OpenRoomRequest open;
  open.set_name(room.name());
  ASSERT_TRUE(call(&mv1::MediaService::Stub::OpenRoom, open, &room, "officer.lan", "officer").ok());
  auto join = [&](const std::string& role, const std::string& subject) {
    mv1::IssueJoinTokenRequest issue;
    issue.set_name(room.name());
    issue.set_role(role);
    issue.set_unit("48");
    issue.set_subject(subject);
    mv1::JoinToken token;
    EXPECT_TRUE(
        call(&mv1::MediaService::Stub::IssueJoinToken, issue, &token, "officer.lan", "officer")
            .ok());
    mv1::JoinRoomRequest j;
    j.set_name(room.name());
    j.set_join_token(token.token());
    mv1::JoinRoomResponse out;
    auto s = call(&mv1::MediaService::Stub::JoinRoom, j, &out, subject, "viewer");
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out;
  };
  const auto chair = join("presiding", "chairman.son");
  const auto observer = join("observer", "observer.ha");
  ASSERT_EQ(observer.media().backend(), "janus");
  const uint64_t media_room = observer.media().media_room();
  auto listed = media::NewJanusBackend(janus.url())->ListRooms();
  ASSERT_TRUE(listed.ok());
  EXPECT_TRUE(Has(*listed, media_room));

  // The observer's client joins the Janus room with what JoinRoom gave it.
  JanusClient client(janus.url());
  const std::string handle = client.Attach();
  auto ack = client.Post(handle, {{"janus", "message"},
                                  {"body",
                                   {{"request", "join"},
                                    {"ptype", "publisher"},
                                    {"room", media_room},
                                    {"id", observer.media().media_participant_id()},
                                    {"pin", observer.media().pin()},
                                    {"token", observer.media().media_token()},
                                    {"display", "observer"}}}});
  ASSERT_EQ(ack["janus"], "ack") << ack.dump();
  JanusClient admin(janus.url());
  ASSERT_TRUE(WaitFor(
      [&] {
        auto ids = admin.Participants(media_room);
        return Has(ids, observer.media().media_participant_id());
      },
      absl::Seconds(10)))
      << janus.log();

  mv1::RemoveParticipantRequest remove;
  remove.set_name(room.name());
  remove.set_participant(chair.participant());
  remove.set_target(observer.participant());
  ASSERT_TRUE(
      call(&mv1::MediaService::Stub::RemoveParticipant, remove, &room, "chairman.son", "viewer")
          .ok());
  ASSERT_TRUE(WaitFor(
      [&] { return !Has(admin.Participants(media_room), observer.media().media_participant_id()); },
      absl::Seconds(10)))
      << ReadFile(node.log_path());
  EXPECT_TRUE(
      WaitFor([&] { return absl::StrContains(ReadFile(node.log_path()), "event=media_kicked"); },
              absl::Seconds(10)));

  mv1::CloseRoomRequest close;
  close.set_name(room.name());
  ASSERT_TRUE(
      call(&mv1::MediaService::Stub::CloseRoom, close, &room, "officer.lan", "officer").ok());
  listed = media::NewJanusBackend(janus.url())->ListRooms();
  ASSERT_TRUE(listed.ok());
  EXPECT_FALSE(Has(*listed, media_room));
}

}  // namespace
}  // namespace reception::testing

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  if (argc < 2) {
    fprintf(stderr, "usage: janus_test <receptiond>\n");
    return 2;
  }
  reception::testing::g_receptiond = argv[1];
  return RUN_ALL_TESTS();
}
