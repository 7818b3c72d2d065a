// The Janus media backend against a real Janus (Debian's janus package)
// started by the test on 127.0.0.1 with a temporary configuration: rooms are
// opened, kicked from and closed, Janus's own room list is checked, and a
// Janus restart is survived (open rooms provisioned again).
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "services/common/test_support.h"
#include "services/media/media_backend.h"
#include "tests/integration/node_process.h"

namespace reception::testing {
namespace {

using media::MediaRoom;

class Janus {
 public:
  Janus() : port_(NodeProcess::FreePort()) {
    const std::string lib = "/usr/lib/x86_64-linux-gnu/janus";
    WriteFile(dir_.Join("janus.jcfg"),
              absl::StrCat("general: {\n  configs_folder = \"", dir_.path(), "\"\n  plugins_folder = \"", lib,
                           "/plugins\"\n  transports_folder = \"", lib, "/transports\"\n  events_folder = \"",
                           lib, "/events\"\n  loggers_folder = \"", lib,
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
              absl::StrCat("general: { json = \"plain\", base_path = \"/janus\", http = true, port = ", port_,
                           ", ip = \"127.0.0.1\", https = false }\nadmin: { admin_http = false }\n"));
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
  ASSERT_TRUE(janus.Start()) << "janus did not start (installed by tools/dev/setup.sh):\n" << janus.log();
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

}  // namespace
}  // namespace reception::testing
