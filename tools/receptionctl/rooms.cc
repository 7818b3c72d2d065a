// receptionctl: online reception rooms (create, join, moderate, minutes,
// bridges, watching events).
#include <fstream>
#include <iostream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "services/common/civil_date.h"
#include "services/common/clock.h"
#include "tools/receptionctl/cli.h"

namespace receptionctl {

int RoomsCommand(const Args& a) {
  Client client(a);
  const bool json = a.Has("json");
  const std::string& cmd = a.command;
  if (cmd == "room") {
    namespace m = reception::media::v1;
    if (a.positional.size() < 2) UsageError("room needs a subcommand and a room (see --help)");
    const std::string sub = a.positional[0];
    const std::string arg = a.positional[1];
    const std::string name = arg.rfind("rooms/", 0) == 0 ? arg : "rooms/" + arg;
    auto show = [&](const m::Room& r) {
      if (json) {
        PrintJson(r);
        return 0;
      }
      std::cout << r.name() << "  [" << Short(m::RoomState_Name(r.state()), "ROOM_STATE_") << "]"
                << (r.recording() ? "  (recording)" : "") << "\n";
      for (const auto& p : r.participants()) {
        std::cout << absl::StrFormat("  %-4s %-12s %-8s %-12s%s%s%s\n", p.id(), p.role(), p.unit(),
                                     Short(m::Presence_Name(p.presence()), "PRESENCE_"),
                                     r.floor_holder() == p.id() ? " FLOOR" : "",
                                     p.hand_raised() ? " hand" : "", p.muted() ? " muted" : "");
      }
      if (!r.hand_queue().empty()) Row("hands", absl::StrJoin(r.hand_queue(), ", "));
      if (!r.minutes().conclusions().empty()) {
        Row("minutes",
            absl::StrCat(
                r.minutes().locked() ? "locked" : "draft", ", signed by ",
                absl::StrJoin(r.minutes().signed_by(), ", "),
                r.minutes().awaiting_signature().empty()
                    ? ""
                    : absl::StrCat("; awaiting ",
                                   absl::StrJoin(r.minutes().awaiting_signature(), ", "))));
      }
      if (!r.session().empty()) Row("session", r.session());
      if (!r.agenda_cases().empty()) Row("agenda", absl::StrJoin(r.agenda_cases(), ", "));
      for (const auto& b : r.bridges()) {
        Row("bridge", absl::StrCat(b.unit(), "  ",
                                   b.presence() == m::PRESENCE_UNSPECIFIED
                                       ? "not joined"
                                       : Short(m::Presence_Name(b.presence()), "PRESENCE_"),
                                   b.sip_uri().empty() ? "" : "  " + b.sip_uri()));
      }
      for (const auto& at : r.minutes_attachments()) {
        Row("attached",
            absl::StrCat(at.case_(), "  ",
                         Short(m::AttachmentState_Name(at.state()), "ATTACHMENT_STATE_"),
                         at.detail().empty() ? "" : "  " + at.detail()));
      }
      if (r.link().state() != m::LINK_STATE_UNSPECIFIED) {
        Row("link",
            absl::StrCat(
                "host ", r.link().host_unit(), "  ",
                Short(m::LinkState_Name(r.link().state()), "LINK_STATE_"),
                r.link().site_participant().empty() ? "" : "  site " + r.link().site_participant(),
                r.link().error().empty() ? "" : "  (" + r.link().error() + ")"));
      }
      return 0;
    };
    const std::string as = a.GetOr("as", "");
    const std::string target = a.GetOr("target", "");
    if (sub == "create") {
      m::CreateRoomRequest r;
      r.set_room_id(arg);
      r.set_session(a.GetOr("session", ""));
      for (const auto& c : a.All("agenda"))
        r.add_agenda_cases(c.rfind("cases/", 0) == 0 ? c : "cases/" + c);
      for (const auto& b : a.All("bridge")) {
        auto* site = r.add_bridges();
        const size_t eq = b.find('=');
        site->set_unit(b.substr(0, eq));
        if (eq != std::string::npos) site->set_sip_uri(b.substr(eq + 1));
      }
      return show(client.Call(&m::MediaService::Stub::CreateRoom, r));
    }
    if (sub == "bridge") {
      m::ConnectBridgeRequest r;
      r.set_name(name);
      r.set_host_unit(a.GetOr("host", ""));
      return show(client.Call(&m::MediaService::Stub::ConnectBridge, r));
    }
    if (sub == "watch") {
      m::WatchRoomRequest r;
      r.set_name(name);
      int after = 0;
      if (auto n = a.Get("after"); n && !absl::SimpleAtoi(*n, &after))
        UsageError("--after must be a number");
      r.set_after_sequence(after);
      auto status = client.Watch(r, [&](const m::RoomEvent& e) {
        if (json) {
          PrintJson(e);
        } else {
          std::cout << absl::StrFormat("%5d  %-20s %-5s %s\n", e.sequence(), e.kind(),
                                       e.participant(), e.detail())
                    << std::flush;
        }
      });
      return status;
    }
    if (sub == "get") {
      m::GetRoomRequest r;
      r.set_name(name);
      return show(client.Call(&m::MediaService::Stub::GetRoom, r));
    }
    if (sub == "open" || sub == "close") {
      if (sub == "open") {
        m::OpenRoomRequest r;
        r.set_name(name);
        r.set_etag(a.GetOr("etag", ""));
        return show(client.Call(&m::MediaService::Stub::OpenRoom, r));
      }
      m::CloseRoomRequest r;
      r.set_name(name);
      r.set_etag(a.GetOr("etag", ""));
      return show(client.Call(&m::MediaService::Stub::CloseRoom, r));
    }
    if (sub == "events") {
      m::ListRoomEventsRequest r;
      r.set_name(name);
      int after = 0;
      if (auto n = a.Get("after"); n && !absl::SimpleAtoi(*n, &after))
        UsageError("--after must be a number");
      r.set_after_sequence(after);
      r.set_page_size(1000);
      auto resp = client.Call(&m::MediaService::Stub::ListRoomEvents, r);
      if (json) {
        PrintJson(resp);
        return 0;
      }
      for (const auto& e : resp.events()) {
        std::cout << absl::StrFormat("%5d  %-20s %-5s %s\n", e.sequence(), e.kind(),
                                     e.participant(), e.detail());
      }
      return 0;
    }
    if (sub == "token") {
      m::IssueJoinTokenRequest r;
      r.set_name(name);
      r.set_role(a.GetOr("participant-role", ""));
      r.set_unit(a.GetOr("site", ""));
      r.set_subject(a.GetOr("for", ""));
      int ttl = 0;
      if (auto n = a.Get("ttl"); n && !absl::SimpleAtoi(*n, &ttl))
        UsageError("--ttl must be a number");
      r.set_ttl_seconds(ttl);
      auto t = client.Call(&m::MediaService::Stub::IssueJoinToken, r);
      if (json) {
        PrintJson(t);
      } else {
        std::cout << t.token() << "\n";
      }
      return 0;
    }
    if (sub == "join") {
      m::JoinRoomRequest r;
      r.set_name(name);
      r.set_join_token(a.GetOr("join-token", ""));
      auto j = client.Call(&m::MediaService::Stub::JoinRoom, r);
      if (json) {
        PrintJson(j);
        return 0;
      }
      std::cout << "participant " << j.participant() << " (media: " << j.media().backend() << ")\n";
      return show(j.room());
    }
    if (as.empty()) UsageError(absl::StrCat("room ", sub, " needs --as PARTICIPANT"));
#define RECEPTION_ROOM_CALL(Method, ...)                         \
  {                                                              \
    m::Method##Request r;                                        \
    r.set_name(name);                                            \
    r.set_participant(as);                                       \
    __VA_ARGS__;                                                 \
    return show(client.Call(&m::MediaService::Stub::Method, r)); \
  }
    if (sub == "admit") RECEPTION_ROOM_CALL(AdmitParticipant, r.set_target(target))
    if (sub == "lobby") RECEPTION_ROOM_CALL(SendToLobby, r.set_target(target))
    if (sub == "grant") RECEPTION_ROOM_CALL(GrantFloor, r.set_target(target))
    if (sub == "mute") RECEPTION_ROOM_CALL(MuteParticipant, r.set_target(target); r.set_muted(true))
    if (sub == "unmute")
      RECEPTION_ROOM_CALL(MuteParticipant, r.set_target(target); r.set_muted(false))
    if (sub == "remove") RECEPTION_ROOM_CALL(RemoveParticipant, r.set_target(target))
    if (sub == "revoke") RECEPTION_ROOM_CALL(RevokeFloor, (void)0)
    if (sub == "record") RECEPTION_ROOM_CALL(StartRecording, (void)0)
    if (sub == "stop-record") RECEPTION_ROOM_CALL(StopRecording, (void)0)
    if (sub == "hand") RECEPTION_ROOM_CALL(RaiseHand, r.set_raised(true))
    if (sub == "lower") RECEPTION_ROOM_CALL(RaiseHand, r.set_raised(false))
    if (sub == "release") RECEPTION_ROOM_CALL(ReleaseFloor, (void)0)
    if (sub == "consent") RECEPTION_ROOM_CALL(SetRecordingConsent, r.set_consent(true))
    if (sub == "withdraw") RECEPTION_ROOM_CALL(SetRecordingConsent, r.set_consent(false))
    if (sub == "sign") RECEPTION_ROOM_CALL(SignMinutes, r.set_etag(a.GetOr("etag", "")))
    if (sub == "leave") RECEPTION_ROOM_CALL(LeaveRoom, (void)0)
    if (sub == "heartbeat") RECEPTION_ROOM_CALL(Heartbeat, (void)0)
    if (sub == "minutes") {
      m::UpdateMinutesRequest r;
      r.set_name(name);
      r.set_participant(as);
      r.set_etag(a.GetOr("etag", ""));
      auto* mm = r.mutable_minutes();
      mm->set_place(a.GetOr("place", ""));
      mm->set_conclusions(a.GetOr("conclusions", ""));
      for (const auto& c : a.All("case"))
        mm->add_cases(c.rfind("cases/", 0) == 0 ? c : "cases/" + c);
      for (const auto& st : a.All("statement")) {
        const size_t eq = st.find('=');
        if (eq == std::string::npos) UsageError("--statement must be PARTICIPANT=TEXT");
        auto* q = mm->add_statements();
        q->set_participant(st.substr(0, eq));
        q->set_summary(st.substr(eq + 1));
      }
      return show(client.Call(&m::MediaService::Stub::UpdateMinutes, r));
    }
#undef RECEPTION_ROOM_CALL
    UsageError(absl::StrCat("unknown room subcommand \"", sub, "\""));
  }
  UsageError(absl::StrCat("unknown command \"", cmd, "\""));
}

}  // namespace receptionctl
