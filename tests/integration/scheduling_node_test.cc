// The scheduling service on real receptiond processes (Đà Nẵng, two levels),
// their date set with --clock_file: a month of a commune's duty across a
// holiday with a missed day in the compliance report; and an online session
// of the city with three bridge points, one commune node down when the
// session is made and another registering its citizens while the city is
// unreachable (delivered later, once), the waiting list moving up, the
// session's room created and closed.
#include <stdio.h>

#include <filesystem>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "reception/cases/v1/case_service.grpc.pb.h"
#include "reception/media/v1/media_service.grpc.pb.h"
#include "reception/scheduling/v1/scheduling_service.grpc.pb.h"
#include "services/common/civil_date.h"
#include "services/common/test_support.h"
#include "tests/integration/node_process.h"

namespace reception::testing {
namespace {

namespace sv = scheduling::v1;
using S = sv::SchedulingService::Stub;

std::string g_receptiond;
std::string g_receptionctl;

template <typename Stub, typename Req, typename Resp>
absl::StatusOr<Resp> Call(Stub* stub,
                          grpc::Status (Stub::*m)(grpc::ClientContext*, const Req&, Resp*),
                          const Req& req, const std::string& unit,
                          const std::string& role = "officer") {
  return CallAs(stub, m, req, role, unit, "officer." + unit);
}

class Clock {
 public:
  explicit Clock(const TempDir& dir) : path_(dir.Join("today")) {}
  void Set(const std::string& day) {
    WriteFile(path_ + ".tmp", day + "\n");
    ASSERT_EQ(rename((path_ + ".tmp").c_str(), path_.c_str()), 0);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::unique_ptr<NodeProcess> MakeNode(const TempDir& dir, const std::string& unit, int port,
                                      const Clock& clock,
                                      std::vector<std::pair<std::string, std::string>> peers,
                                      std::string extra_config = "") {
  const std::string work = dir.Join(unit);
  std::filesystem::create_directories(work);
  NodeProcess::Options o;
  o.binary = g_receptiond;
  o.unit_code = unit;
  o.work_dir = work;
  o.listen_port = port;
  o.sync_policy = "none";
  o.peers = std::move(peers);
  o.extra_args = {"--clock_file", clock.path()};
  o.extra_config = std::move(extra_config);
  return std::make_unique<NodeProcess>(o);
}

std::string RunCommand(const std::string& command) {
  std::string out;
  FILE* p = popen((command + " 2>&1").c_str(), "r");
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  pclose(p);
  return out;
}

sv::Session Periodic(absl::CivilDay day) {
  sv::Session s;
  s.set_kind(sv::SESSION_KIND_PERIODIC);
  *s.mutable_date() = ToProtoDate(day);
  s.set_start("07:30");
  s.set_end("11:00");
  s.set_presiding("Chủ tịch UBND xã");
  return s;
}

TEST(SchedulingNode, AMonthOfACommunesDutyAcrossAHolidayWithAMissedDay) {
  TempDir dir;
  Clock clock(dir);
  clock.Set("2026-03-30");
  const std::string feed_address = absl::StrCat("127.0.0.1:", NodeProcess::FreePort());
  auto node = MakeNode(dir, "48-29", 0, clock, {},
                       absl::StrCat("calendar_feed_address: \"", feed_address, "\"\n"));
  ASSERT_TRUE(node->Start().ok()) << ReadFile(node->log_path());
  auto stub = sv::SchedulingService::NewStub(node->NewChannel());
  // The chairman receives every Monday.
  sv::SetReceptionPlanRequest plan;
  plan.mutable_plan()->set_opens("07:30");
  plan.mutable_plan()->set_closes("17:00");
  plan.mutable_plan()->add_periodic_days()->set_weekday(sv::WEEKDAY_MONDAY);
  ASSERT_TRUE(Call(stub.get(), &S::SetReceptionPlan, plan, "48-29").ok());
  sv::ListPlannedDaysRequest days;
  *days.mutable_from() = ToProtoDate(absl::CivilDay(2026, 4, 1));
  *days.mutable_to() = ToProtoDate(absl::CivilDay(2026, 4, 30));
  auto planned = Call(stub.get(), &S::ListPlannedDays, days, "48-29");
  ASSERT_TRUE(planned.ok()) << planned.status();
  std::vector<std::string> periodic;
  for (const auto& d : planned->days()) {
    if (d.kind() == sv::DAY_KIND_PERIODIC) periodic.push_back(FormatDate(d.date()));
  }
  // Hùng Kings' day in lieu (Monday 27 April) moves to Tuesday 28 April.
  EXPECT_EQ(periodic,
            (std::vector<std::string>{"2026-04-06", "2026-04-13", "2026-04-20", "2026-04-28"}));
  // A session on the holiday itself is refused, naming it.
  sv::CreateSessionRequest on_holiday;
  *on_holiday.mutable_session() = Periodic(absl::CivilDay(2026, 4, 27));
  auto refused = Call(stub.get(), &S::CreateSession, on_holiday, "48-29");
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(refused.status().message(), "2026-04-27 is a day off"))
      << refused.status();

  // The month goes by: held on the 6th (chairman), 20th (a vice-chairman),
  // 28th; the 13th is missed.
  std::map<std::string, std::string> names;
  for (const auto& day : {absl::CivilDay(2026, 4, 6), absl::CivilDay(2026, 4, 13),
                          absl::CivilDay(2026, 4, 20), absl::CivilDay(2026, 4, 28)}) {
    sv::CreateSessionRequest r;
    *r.mutable_session() = Periodic(day);
    auto s = Call(stub.get(), &S::CreateSession, r, "48-29");
    ASSERT_TRUE(s.ok()) << s.status();
    names[FormatDate(day)] = s->name();
  }
  auto record = [&](const std::string& day, const std::string& who, sv::PresidingRole role) {
    sv::RecordSessionRequest r;
    r.set_name(names[day]);
    r.mutable_record()->set_presided_by(who);
    r.mutable_record()->set_presiding_role(role);
    r.mutable_record()->set_citizens(3);
    return Call(stub.get(), &S::RecordSession, r, "48-29", "head");
  };
  EXPECT_EQ(record("2026-04-06", "Chủ tịch Lê Văn Hòa", sv::PRESIDING_ROLE_HEAD).status().code(),
            absl::StatusCode::kFailedPrecondition);  // not yet happened
  clock.Set("2026-05-04");
  ASSERT_TRUE(record("2026-04-06", "Chủ tịch Lê Văn Hòa", sv::PRESIDING_ROLE_HEAD).ok());
  ASSERT_TRUE(record("2026-04-20", "Phó Chủ tịch Trần Thị Mỹ", sv::PRESIDING_ROLE_DEPUTY).ok());
  ASSERT_TRUE(record("2026-04-28", "Chủ tịch Lê Văn Hòa", sv::PRESIDING_ROLE_HEAD).ok());

  sv::GetComplianceReportRequest report;
  report.set_period(sv::REPORT_PERIOD_MONTH);
  report.set_year(2026);
  report.set_number(4);
  auto april = Call(stub.get(), &S::GetComplianceReport, report, "48-29");
  ASSERT_TRUE(april.ok()) << april.status();
  EXPECT_EQ(april->gaps(), 2);  // 30 Mar-5 Apr (before the plan was kept) and 13-19 April
  bool saw_missed_13 = false;
  for (const auto& span : april->spans()) {
    for (const auto& d : span.missed_planned_days()) saw_missed_13 |= FormatDate(d) == "2026-04-13";
  }
  EXPECT_TRUE(saw_missed_13);
  EXPECT_EQ(april->presided_by_deputy(), 1);
  // The CLI shows the same report.
  const std::string cli = RunCommand(absl::StrCat(
      g_receptionctl, node->CliFlags("officer", "48-29"), "schedule compliance --month 2026-04"));
  EXPECT_TRUE(absl::StrContains(cli, "GAP")) << cli;
  EXPECT_TRUE(absl::StrContains(cli, "planned, not held 2026-04-13")) << cli;
  EXPECT_TRUE(absl::StrContains(cli, "Phó Chủ tịch Trần Thị Mỹ (deputy)")) << cli;
  // The week of the moved day is judged in May, where it belongs.
  report.set_number(5);
  auto may = Call(stub.get(), &S::GetComplianceReport, report, "48-29");
  ASSERT_TRUE(may.ok());
  ASSERT_GE(may->spans_size(), 1);
  EXPECT_EQ(FormatDate(may->spans(0).from()), "2026-04-27");
  EXPECT_EQ(may->spans(0).held(), 1);
  // The iCalendar feed for calendar applications: over the CLI, and over
  // HTTP for subscriptions.
  const std::string feed = HttpRequest(absl::StrCat("http://", feed_address, "/calendar.ics"));
  EXPECT_TRUE(absl::StrContains(feed, "BEGIN:VCALENDAR")) << feed;
  EXPECT_TRUE(absl::StrContains(feed, "UID:48-29-20260428-1@reception")) << feed;
  const std::string ical =
      RunCommand(absl::StrCat(g_receptionctl, node->CliFlags("officer", "48-29"),
                              "schedule ical --from 2026-04-01 --to 2026-04-30"));
  EXPECT_TRUE(absl::StrContains(ical, "BEGIN:VCALENDAR")) << ical;
  EXPECT_TRUE(absl::StrContains(ical, "dời từ 2026-04-27")) << ical;
}

TEST(SchedulingNode, AnOnlineSessionWithThreeBridgesOneOfflineRegistrationsArriveLater) {
  TempDir dir;
  Clock clock(dir);
  clock.Set("2026-09-21");
  const int city_port = NodeProcess::FreePort(), a_port = NodeProcess::FreePort(),
            b_port = NodeProcess::FreePort();
  const std::string city_addr = absl::StrCat("127.0.0.1:", city_port);
  auto city = MakeNode(dir, "48", city_port, clock,
                       {{"48-29", absl::StrCat("127.0.0.1:", a_port)},
                        {"48-1", absl::StrCat("127.0.0.1:", b_port)}});
  auto tay_giang = MakeNode(dir, "48-29", a_port, clock, {{"48", city_addr}});
  auto hai_chau = MakeNode(dir, "48-1", b_port, clock, {{"48", city_addr}});
  ASSERT_TRUE(city->Start().ok()) << ReadFile(city->log_path());
  ASSERT_TRUE(tay_giang->Start().ok());
  // 48-1's node is down when the session is made; 48-2 has no node at all.
  auto host = sv::SchedulingService::NewStub(city->NewChannel());
  sv::CreateSessionRequest create;
  auto* x = create.mutable_session();
  x->set_kind(sv::SESSION_KIND_ONLINE);
  *x->mutable_date() = ToProtoDate(absl::CivilDay(2026, 9, 25));
  x->set_start("08:00");
  x->set_end("10:30");
  x->set_presiding("Chủ tịch UBND thành phố");
  x->set_title("Tiếp công dân trực tuyến định kỳ tháng 9");
  for (const auto& [unit, capacity] :
       std::vector<std::pair<std::string, int>>{{"48-29", 1}, {"48-1", 3}, {"48-2", 3}}) {
    auto* b = x->add_bridges();
    b->set_unit(unit);
    b->set_capacity(capacity);
  }
  *x->mutable_registration_cutoff() = ToProtoDate(absl::CivilDay(2026, 9, 23));
  create.set_request_id("sep-online");
  auto session = Call(host.get(), &S::CreateSession, create, "48");
  ASSERT_TRUE(session.ok()) << session.status();
  const std::string name = session->name();
  // Its room, from the media service.
  sv::GetSessionRequest get;
  get.set_name(name);
  ASSERT_TRUE(WaitFor(
      [&] {
        auto s = Call(host.get(), &S::GetSession, get, "48");
        return s.ok() && !s->room().empty();
      },
      absl::Seconds(10)))
      << ReadFile(city->log_path());
  const std::string room = Call(host.get(), &S::GetSession, get, "48")->room();
  auto media = media::v1::MediaService::NewStub(city->NewChannel());
  media::v1::GetRoomRequest get_room;
  get_room.set_name(room);
  auto r = Call(media.get(), &media::v1::MediaService::Stub::GetRoom, get_room, "48");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->session(), name);
  EXPECT_EQ(r->bridges_size(), 3);

  // Tây Giang learns of the session; Hải Châu does once its node is up.
  auto at_a = sv::SchedulingService::NewStub(tay_giang->NewChannel());
  ASSERT_TRUE(WaitFor([&] { return Call(at_a.get(), &S::GetSession, get, "48-29").ok(); },
                      absl::Seconds(10)));
  ASSERT_TRUE(hai_chau->Start().ok());
  auto at_b = sv::SchedulingService::NewStub(hai_chau->NewChannel());
  ASSERT_TRUE(WaitFor([&] { return Call(at_b.get(), &S::GetSession, get, "48-1").ok(); },
                      absl::Seconds(15)))
      << ReadFile(city->log_path());
  sv::ListSessionsRequest upcoming;
  *upcoming.mutable_from() = ToProtoDate(absl::CivilDay(2026, 9, 21));
  *upcoming.mutable_to() = ToProtoDate(absl::CivilDay(2026, 9, 30));
  auto listed = Call(at_b.get(), &S::ListSessions, upcoming, "48-1");
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->sessions_size(), 1);
  EXPECT_TRUE(listed->sessions(0).replica());

  // The city becomes unreachable; two citizens register at Tây Giang meanwhile.
  ASSERT_EQ(city->Stop(), 0);
  const int tay_giang_admin = tay_giang->admin_port();
  auto reg = [&](S* stub, const std::string& unit, const std::string& id,
                 const std::string& request) {
    sv::RegisterCitizenRequest r;
    r.set_request_id(request);
    r.mutable_registration()->set_session(name);
    r.mutable_registration()->set_bridge_unit(unit);
    r.mutable_registration()->set_full_name("Công dân " + request);
    r.mutable_registration()->set_citizen_id(id);
    r.mutable_registration()->set_summary("Kiến nghị về bồi thường giải phóng mặt bằng");
    return Call(stub, &S::RegisterCitizen, r, unit);
  };
  auto an = reg(at_a.get(), "48-29", "049201000021", "an");
  auto binh = reg(at_a.get(), "48-29", "049201000022", "binh");
  ASSERT_TRUE(an.ok() && binh.ok()) << an.status() << binh.status();
  EXPECT_EQ(an->state(), sv::REGISTRATION_STATE_PENDING);
  // Hải Châu registers one too (also offline from the city).
  auto cuc = reg(at_b.get(), "48-1", "049201000023", "cuc");
  ASSERT_TRUE(cuc.ok()) << cuc.status();
  // Ops see the queue in Tây Giang's metrics.
  EXPECT_TRUE(absl::StrContains(ScrapeMetrics(tay_giang_admin),
                                "reception_outbox_depth{outbox=\"scheduling\",peer=\"48\"} 2"))
      << ScrapeMetrics(tay_giang_admin);
  // Tây Giang's node restarts while offline: nothing is lost.
  ASSERT_EQ(tay_giang->Stop(), 0);
  ASSERT_TRUE(tay_giang->Start().ok());
  at_a = sv::SchedulingService::NewStub(tay_giang->NewChannel());

  // The city is back: the registrations arrive, once; capacity 1 at Tây Giang.
  ASSERT_TRUE(city->Start().ok()) << ReadFile(city->log_path());
  host = sv::SchedulingService::NewStub(city->NewChannel());
  sv::GetSessionAgendaRequest agenda;
  agenda.set_session(name);
  ASSERT_TRUE(WaitFor(
      [&] {
        auto s = Call(host.get(), &S::GetSession, get, "48");
        return s.ok() && s->bridges(0).registered() == 1 && s->bridges(0).waiting() == 1 &&
               s->bridges(1).registered() == 1;
      },
      absl::Seconds(20)))
      << ReadFile(tay_giang->log_path());
  auto host_agenda = Call(host.get(), &S::GetSessionAgenda, agenda, "48");
  ASSERT_TRUE(host_agenda.ok());
  ASSERT_EQ(host_agenda->items_size(), 2);
  // At Tây Giang, the citizens see their queue number or their place in line.
  ASSERT_TRUE(WaitFor(
      [&] {
        auto ag = Call(at_a.get(), &S::GetSessionAgenda, agenda, "48-29");
        return ag.ok() && ag->items_size() == 1 && ag->items(0).queue_number() == 1;
      },
      absl::Seconds(10)));
  // An cancels at the commune: Bình moves up, at the city and at the commune.
  sv::CancelRegistrationRequest cancel;
  cancel.set_name(an->name());
  ASSERT_TRUE(Call(at_a.get(), &S::CancelRegistration, cancel, "48-29").ok());
  ASSERT_TRUE(WaitFor(
      [&] {
        auto ag = Call(at_a.get(), &S::GetSessionAgenda, agenda, "48-29");
        return ag.ok() && ag->items_size() == 1 && ag->items(0).registration() == binh->name();
      },
      absl::Seconds(10)));
  auto notes = Call(at_a.get(), &S::ListNotifications, sv::ListNotificationsRequest(), "48-29");
  ASSERT_TRUE(notes.ok());
  ASSERT_GE(notes->notifications_size(), 1) << ReadFile(tay_giang->log_path());
  EXPECT_EQ(notes->notifications(0).kind(), "moved_up");
  // Only one registration per request reached the city, whatever the retries.
  auto s = Call(host.get(), &S::GetSession, get, "48");
  EXPECT_EQ(s->bridges(0).registered() + s->bridges(0).waiting(), 1);

  // The day: Bình checks in at Tây Giang; the session is recorded; the room closes.
  clock.Set("2026-09-25");
  sv::CheckInCitizenRequest in;
  in.set_name(binh->name());
  in.set_citizen_id("049201000022");
  ASSERT_TRUE(Call(at_a.get(), &S::CheckInCitizen, in, "48-29").ok());
  ASSERT_TRUE(WaitFor(
      [&] {
        auto ag = Call(host.get(), &S::GetSessionAgenda, agenda, "48");
        if (!ag.ok()) return false;
        for (const auto& i : ag->items()) {
          if (i.registration() == binh->name())
            return i.state() == sv::REGISTRATION_STATE_CHECKED_IN;
        }
        return false;
      },
      absl::Seconds(10)));
  sv::RecordSessionRequest rec;
  rec.set_name(name);
  rec.mutable_record()->set_presided_by("Chủ tịch UBND thành phố");
  rec.mutable_record()->set_presiding_role(sv::PRESIDING_ROLE_HEAD);
  rec.mutable_record()->set_citizens(1);
  ASSERT_TRUE(Call(host.get(), &S::RecordSession, rec, "48", "head").ok());
  media = media::v1::MediaService::NewStub(city->NewChannel());
  ASSERT_TRUE(WaitFor(
      [&] {
        auto rr = Call(media.get(), &media::v1::MediaService::Stub::GetRoom, get_room, "48");
        return rr.ok() && rr->state() == media::v1::ROOM_STATE_CLOSED;
      },
      absl::Seconds(10)));
  ASSERT_TRUE(WaitFor(
      [&] {
        auto ag = Call(at_b.get(), &S::GetSessionAgenda, agenda, "48-1");
        return ag.ok() && ag->items_size() == 1 &&
               ag->items(0).state() == sv::REGISTRATION_STATE_NO_SHOW;
      },
      absl::Seconds(10)));
  // People see citizen IDs masked; no node's files (databases with their
  // write-ahead logs, logs, configs) hold one in clear, nor a name.
  EXPECT_EQ(an->citizen_id(), "*********021");
  for (const char* unit : {"48", "48-29", "48-1"}) {
    std::string tree;
    for (const auto& e : std::filesystem::recursive_directory_iterator(dir.Join(unit))) {
      if (e.is_regular_file()) tree += ReadFile(e.path().string());
    }
    ASSERT_GT(tree.size(), 10000u) << unit;
    for (const char* secret : {"049201000021", "049201000022", "049201000023", "Công dân binh"}) {
      EXPECT_FALSE(absl::StrContains(tree, secret)) << unit << " holds " << secret;
    }
  }
}

// A registration naming a denunciation is protected without being told: the
// agenda shows who registered only to the staff of the host and the bridge.
TEST(SchedulingNode, RegistrationsForADenunciationAreProtected) {
  TempDir dir;
  Clock clock(dir);
  clock.Set("2026-09-21");
  auto city = MakeNode(dir, "48", NodeProcess::FreePort(), clock, {});
  ASSERT_TRUE(city->Start().ok()) << ReadFile(city->log_path());
  auto cases = cases::v1::CaseService::NewStub(city->NewChannel());
  auto denunciation = Call(cases.get(), &cases::v1::CaseService::Stub::CreateCase,
                           SampleCase(cases::v1::CASE_KIND_DENUNCIATION, "d-1", "48-29",
                                      absl::CivilDay(2026, 9, 21), "Tố cáo cán bộ địa chính"),
                           "48");
  ASSERT_TRUE(denunciation.ok()) << denunciation.status();
  ASSERT_TRUE(denunciation->identity_protected());
  auto host = sv::SchedulingService::NewStub(city->NewChannel());
  sv::CreateSessionRequest create;
  auto* x = create.mutable_session();
  x->set_kind(sv::SESSION_KIND_ONLINE);
  *x->mutable_date() = ToProtoDate(absl::CivilDay(2026, 9, 25));
  x->set_start("08:00");
  x->set_end("10:00");
  x->set_presiding("chairman.son");
  x->set_title("Tiếp công dân trực tuyến");
  x->add_bridges()->set_unit("48-29");
  x->mutable_bridges(0)->set_capacity(3);
  auto session = Call(host.get(), &S::CreateSession, create, "48");
  ASSERT_TRUE(session.ok()) << session.status();
  sv::RegisterCitizenRequest r;
  r.set_request_id("dn-1");
  r.mutable_registration()->set_session(session->name());
  r.mutable_registration()->set_bridge_unit("48-29");
  r.mutable_registration()->set_full_name("Người Tố Cáo");
  r.mutable_registration()->set_citizen_id("049201000077");
  r.mutable_registration()->set_case_(denunciation->name());
  auto reg = Call(host.get(), &S::RegisterCitizen, r, "48");
  ASSERT_TRUE(reg.ok()) << reg.status();
  EXPECT_TRUE(reg->identity_protected());
  EXPECT_EQ(reg->citizen_id(), "*********077");
  sv::GetSessionAgendaRequest agenda;
  agenda.set_session(session->name());
  auto staff = Call(host.get(), &S::GetSessionAgenda, agenda, "48");
  ASSERT_TRUE(staff.ok()) << staff.status();
  ASSERT_EQ(staff->items_size(), 1);
  EXPECT_EQ(staff->items(0).full_name(), "Người Tố Cáo");
  for (const auto& [unit, role] :
       std::vector<std::pair<std::string, std::string>>{{"48", "viewer"}, {"48-1", "officer"}}) {
    auto other = Call(host.get(), &S::GetSessionAgenda, agenda, unit, role);
    ASSERT_TRUE(other.ok()) << unit << " " << other.status();
    ASSERT_EQ(other->items_size(), 1);
    EXPECT_EQ(other->items(0).full_name(), "") << unit;
    EXPECT_EQ(other->items(0).case_(), "") << unit;
    EXPECT_TRUE(other->items(0).identity_protected());
  }
}

}  // namespace
}  // namespace reception::testing

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  if (argc < 3) {
    fprintf(stderr, "usage: scheduling_node_test <receptiond> <receptionctl>\n");
    return 2;
  }
  reception::testing::g_receptiond = argv[1];
  reception::testing::g_receptionctl = argv[2];
  return RUN_ALL_TESTS();
}
