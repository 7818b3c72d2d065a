// The media rules (rooms, join tokens, what each participant may do) with
// hostile requests, on a real store and the "none" media backend.
//
// Each input gets a fresh open room with a presiding official and a citizen
// admitted. Byte 0 picks the call: CreateRoom, IssueJoinToken or JoinRoom
// (the rest merged into a valid request, or parsed alone), or an act of a
// participant: the rest merged into a room operation of the kinds the API
// makes, acting as the presiding official or the citizen (an actor, when
// set, is always the caller itself, as the gRPC edge sets it). Byte 1 picks
// the caller. Invariants: no crash or sanitizer report; a refusal is never
// INTERNAL, UNKNOWN or DATA_LOSS; the room still reads afterwards.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"
#include "services/common/clock.h"
#include "services/common/logging.h"
#include "services/common/work_pool.h"
#include "services/media/room_service.h"
#include "tests/fuzz/fuzz_world.h"

namespace reception::fuzz {
namespace {

namespace v1 = media::v1;
using media::RoomService;

struct World {
  reception::testing::TempDir dir;
  FakeClock clock{absl::FromUnixSeconds(1780000000)};
  WorkPool pool{1, "media-fuzz"};
  std::unique_ptr<media::JoinTokenSigner> signer = media::JoinTokenSigner::Ephemeral();
  std::unique_ptr<media::MediaBackend> backend = media::NewNoneBackend();
  std::unique_ptr<Store> store;
  std::unique_ptr<media::RoomRegistry> rooms;
  std::unique_ptr<RoomService> service;
};

World& Get() {
  static World* w = [] {
    auto* w = new World;
    (void)SetLogLevel("warn");  // millions of calls: warnings and errors only
    Store::Options o;
    o.path = w->dir.Join("media");
    o.column_families = media::RoomRegistry::ColumnFamilies();
    o.sync = false;
    auto store = Store::Open(o);
    Require(store.ok(), "store", store.status());
    w->store = *std::move(store);
    auto rooms = media::RoomRegistry::Open(w->store.get());
    Require(rooms.ok(), "rooms", rooms.status());
    w->rooms = *std::move(rooms);
    RoomService::Deps d;
    d.rooms = w->rooms.get();
    d.signer = w->signer.get();
    d.backend = w->backend.get();
    d.clock = &w->clock;
    d.pool = &w->pool;
    d.unit_code = "49";
    w->service = std::make_unique<RoomService>(std::move(d));
    return w;
  }();
  return *w;
}

const Principal kOfficer{"officer.lan", Role::kReceptionOfficer, "49"};
const Principal kChairman{"chairman", Role::kHead, "49"};
const Principal kCitizen{"citizen.an", Role::kViewer, "49-1"};
const Principal kCallers[] = {
    kOfficer,
    kChairman,
    kCitizen,
    {"officer.b", Role::kReceptionOfficer, "49-1"},
    {"officer.c", Role::kReceptionOfficer, "49-2"},
    {"node-49-1", Role::kNode, "49-1"},
    {"auditor", Role::kViewer, "49"},
    {"inspector", Role::kInspector, "49"},
};

struct Prepared {
  std::string room;
  std::string chairman, citizen;  // participant ids
};

absl::StatusOr<std::string> Join(World& w, const std::string& room, const Principal& who,
                                 const std::string& role, const std::string& unit) {
  v1::IssueJoinTokenRequest issue;
  issue.set_name(room);
  issue.set_role(role);
  issue.set_unit(unit);
  issue.set_subject(who.subject);
  auto token = w.service->IssueJoinToken(kOfficer, issue);
  if (!token.ok()) return token.status();
  v1::JoinRoomRequest join;
  join.set_name(room);
  join.set_join_token(token->token());
  auto joined =
      Run<v1::JoinRoomResponse>([&](auto cb) { w.service->JoinRoom(who, join, std::move(cb)); });
  if (!joined.ok()) return joined.status();
  return joined->participant();
}

Prepared Prepare(World& w) {
  static int next = 0;
  Prepared out;
  v1::CreateRoomRequest create;
  create.set_room_id(absl::StrCat("f", next++));
  create.add_bridges()->set_unit("49-1");
  auto room =
      Run<v1::Room>([&](auto cb) { w.service->CreateRoom(kOfficer, create, std::move(cb)); });
  Require(room.ok(), "creating the room", room.status());
  out.room = room->name();
  auto opened = Run<v1::Room>(
      [&](auto cb) { w.service->OpenOrClose(kOfficer, out.room, true, "", std::move(cb)); });
  Require(opened.ok(), "opening the room", opened.status());
  auto chairman = Join(w, out.room, kChairman, "presiding", "49");
  Require(chairman.ok(), "the presiding official joins", chairman.status());
  out.chairman = *chairman;
  auto citizen = Join(w, out.room, kCitizen, "citizen", "49-1");
  Require(citizen.ok(), "the citizen joins", citizen.status());
  out.citizen = *citizen;
  auto admitted = Run<v1::Room>([&](auto cb) {
    w.service->Act(
        kChairman, out.room, out.chairman,
        [&](media::internal::RoomOp& op) {
          op.set_actor(out.chairman);
          op.set_participant(out.citizen);
          op.set_admit(true);
        },
        std::move(cb));
  });
  Require(admitted.ok(), "admitting the citizen", admitted.status());
  return out;
}

// The operations the API makes (media_service.cc); the others are the
// node's own (creation, disconnects, attachments).
bool FromTheApi(const media::internal::RoomOp& op) {
  using Op = media::internal::RoomOp;
  switch (op.op_case()) {
    case Op::kLeave:
    case Op::kAdmit:
    case Op::kSendToLobby:
    case Op::kRaiseHand:
    case Op::kGrantFloor:
    case Op::kReleaseFloor:
    case Op::kRevokeFloor:
    case Op::kMute:
    case Op::kRemove:
    case Op::kConsent:
    case Op::kStartRecording:
    case Op::kStopRecording:
    case Op::kHeartbeat:
    case Op::kUpdateMinutes:
    case Op::kSignMinutes:
      return true;
    default:
      return false;
  }
}

}  // namespace
}  // namespace reception::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace reception;
  using namespace reception::fuzz;
  if (size < 2) return 0;
  World& w = Get();
  const Principal& caller = kCallers[data[1] & 7];
  const bool merge = !((data[1] >> 3) & 1);
  const std::string bytes(reinterpret_cast<const char*>(data) + 2, size - 2);
  const Prepared at = Prepare(w);
  switch (data[0] % 4) {
    case 0: {
      static int n = 0;
      v1::CreateRoomRequest r;
      r.set_room_id(absl::StrCat("c", n++));
      r.add_bridges()->set_unit("49-1");
      if (!Fill(r, bytes, merge)) return 0;
      auto out = Run<v1::Room>([&](auto cb) { w.service->CreateRoom(caller, r, std::move(cb)); });
      Verbose("CreateRoom", out.status());
      RequireClientError(out.status(), "CreateRoom");
      break;
    }
    case 1: {
      v1::IssueJoinTokenRequest r;
      r.set_name(at.room);
      r.set_role("citizen");
      r.set_unit("49-1");
      r.set_subject("citizen.binh");
      if (!Fill(r, bytes, merge)) return 0;
      auto out = w.service->IssueJoinToken(caller, r);
      Verbose("IssueJoinToken", out.status());
      RequireClientError(out.status(), "IssueJoinToken");
      break;
    }
    case 2: {
      v1::IssueJoinTokenRequest issue;
      issue.set_name(at.room);
      issue.set_role("citizen");
      issue.set_unit("49-1");
      issue.set_subject(caller.subject);
      auto token = w.service->IssueJoinToken(kOfficer, issue);
      Require(token.ok(), "a token for the caller", token.status());
      v1::JoinRoomRequest r;
      r.set_name(at.room);
      r.set_join_token(token->token());
      if (!Fill(r, bytes, merge)) return 0;
      auto out = Run<v1::JoinRoomResponse>(
          [&](auto cb) { w.service->JoinRoom(caller, r, std::move(cb)); });
      Verbose("JoinRoom", out.status());
      RequireClientError(out.status(), "JoinRoom");
      break;
    }
    default: {
      // As the presiding official or the citizen (their own principal).
      const bool chair = !(data[1] & 16);
      const Principal& who = chair ? kChairman : kCitizen;
      const std::string& self = chair ? at.chairman : at.citizen;
      media::internal::RoomOp op;
      op.set_raise_hand(true);
      if (!Fill(op, bytes, merge) || !FromTheApi(op)) return 0;
      const auto fields = op;
      auto out = Run<v1::Room>([&](auto cb) {
        w.service->Act(
            who, at.room, self,
            [&](media::internal::RoomOp& o) {
              const int64_t time = o.time_unix_micros();
              o = fields;
              o.set_room(at.room);
              o.set_time_unix_micros(time);
              if (!o.actor().empty()) {
                o.set_actor(self);
              } else {
                o.set_participant(self);
              }
            },
            std::move(cb));
      });
      Verbose("Act", out.status());
      RequireClientError(out.status(), "a participant's act");
      break;
    }
  }
  auto view = w.service->View(at.room);
  Require(view.ok(), "the room reads", view.status());
  return 0;
}
