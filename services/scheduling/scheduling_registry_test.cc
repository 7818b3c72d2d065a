// The scheduling registry on real stores in temp dirs, with the shipped
// calendar, rules and the Đà Nẵng topology; a host (city 48) and a bridge
// (commune 48-29) registry exchange what their outboxes hold, as the
// delivery worker would.
#include "services/scheduling/scheduling_registry.h"

#include <algorithm>
#include <filesystem>
#include <map>

#include "absl/strings/match.h"
#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"
#include "services/common/civil_date.h"
#include "services/common/test_support.h"

namespace reception::scheduling {
namespace {

// A ListNotifications request for `size` notices.
v1::ListNotificationsRequest Page(int size, const std::string& token = "") {
  v1::ListNotificationsRequest r;
  r.set_page_size(size);
  r.set_page_token(token);
  return r;
}

using testing::Await;

struct Node {
  Node(const std::string& unit, std::set<std::string> peers, const WorkingCalendar* calendar,
       const RuleBook* rules, const Topology* topology, const Clock* clock, const std::string& path)
      : unit(unit),
        path(path),
        calendar(calendar),
        rules(rules),
        topology(topology),
        clock(clock),
        peers(peers) {
    Reopen();
  }
  // The store first: it finishes queued writes, whose callbacks use the
  // registry.
  ~Node() {
    store.reset();
    registry.reset();
  }
  void Reopen() {
    store.reset();
    registry.reset();
    Store::Options o;
    o.path = path;
    o.column_families = SchedulingRegistry::ColumnFamilies();
    o.sync = false;
    store = *Store::Open(o);
    vault = *IdentityVault::Open(path + ".keys", /*create_if_missing=*/true);
    SchedulingRegistry::Deps d{store.get(), calendar, rules, topology,
                               clock,       unit,     peers, vault.get()};
    // The "network": what the test routes (Deliver below); else unreachable.
    d.send = [this](const internal::OutboxItem& item,
                    absl::AnyInvocable<void(Outbox::Answer)> answer) {
      if (route) return route(item, std::move(answer));
      answer({Outbox::Verdict::kRetry, "offline", ""});
    };
    auto r = SchedulingRegistry::Open(d);
    ASSERT_TRUE(r.ok()) << r.status();
    registry = *std::move(r);
  }
  std::string unit, path;
  const WorkingCalendar* calendar;
  const RuleBook* rules;
  const Topology* topology;
  const Clock* clock;
  std::set<std::string> peers;
  std::unique_ptr<Store> store;
  std::unique_ptr<IdentityVault> vault;
  std::unique_ptr<SchedulingRegistry> registry;
  std::function<void(const internal::OutboxItem&, absl::AnyInvocable<void(Outbox::Answer)>)> route;
};

// What the registry owes its peers, opened as it would be sent.
std::vector<internal::OutboxItem> Owed(SchedulingRegistry& r) {
  std::vector<internal::OutboxItem> out;
  for (const auto& item : r.outbox()->List()) {
    auto sending = r.ToSend(item);
    EXPECT_TRUE(sending.ok()) << sending.status();
    if (sending.ok()) out.push_back(*sending);
  }
  return out;
}

class SchedulingRegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    calendar_ = std::make_unique<WorkingCalendar>(
        *WorkingCalendar::LoadFile(testing::SourcePath("deploy/calendars/vn-2025-2026.yaml")));
    rules_ = std::make_unique<RuleBook>(
        *RuleBook::LoadFile(testing::SourcePath("deploy/rules/vn.yaml")));
    topology_ = std::make_unique<Topology>(
        *Topology::LoadFile(testing::SourcePath("deploy/topology/da-nang-2025.yaml")));
    host_ = std::make_unique<Node>("48", std::set<std::string>{"48-29"}, calendar_.get(),
                                   rules_.get(), topology_.get(), &clock_, dir_.Join("host"));
    bridge_ = std::make_unique<Node>("48-29", std::set<std::string>{"48"}, calendar_.get(),
                                     rules_.get(), topology_.get(), &clock_, dir_.Join("bridge"));
  }
  absl::StatusOr<v1::Session> Create(v1::Session s, const std::string& request = "") {
    v1::CreateSessionRequest r;
    *r.mutable_session() = s;
    r.set_request_id(request);
    return Await<v1::Session>(
        [&](auto cb) { host_->registry->CreateSession(officer_, r, std::move(cb)); });
  }
  static v1::Session Online(absl::CivilDay day, const std::string& start, const std::string& end,
                            int capacity) {
    v1::Session s;
    s.set_kind(v1::SESSION_KIND_ONLINE);
    *s.mutable_date() = ToProtoDate(day);
    s.set_start(start);
    s.set_end(end);
    s.set_presiding("chairman.son");
    s.set_title("Tiếp công dân trực tuyến");
    auto* b = s.add_bridges();
    b->set_unit("48-29");
    b->set_capacity(capacity);
    auto* c = s.add_bridges();
    c->set_unit("48-1");
    c->set_capacity(5);
    *s.mutable_registration_cutoff() = ToProtoDate(day - 2);
    return s;
  }
  absl::StatusOr<v1::Registration> Register(Node& n, const std::string& session,
                                            const std::string& bridge,
                                            const std::string& citizen_id,
                                            const std::string& request) {
    v1::RegisterCitizenRequest r;
    r.set_request_id(request);
    auto* reg = r.mutable_registration();
    reg->set_session(session);
    reg->set_bridge_unit(bridge);
    reg->set_full_name("Nguyễn Văn " + request);
    reg->set_citizen_id(citizen_id);
    reg->set_summary("Đề nghị giải quyết tranh chấp đất đai");
    const Principal staff{"officer.x", Role::kReceptionOfficer, n.unit};
    return Await<v1::Registration>(
        [&](auto cb) { n.registry->RegisterCitizen(staff, r, std::move(cb)); });
  }
  // Delivers everything `from`'s outbox holds for `to` through the shared
  // outbox, as its worker does; returns how many items were sent.
  int Deliver(Node& from, Node& to) {
    int n = 0;
    const Principal node{"node:" + from.unit, Role::kNode, from.unit};
    from.route = [&](const internal::OutboxItem& item,
                     absl::AnyInvocable<void(Outbox::Answer)> answer) {
      ++n;
      absl::Status status;
      std::string response;
      if (item.has_notice()) {
        federation::v1::OfferSessionNoticeRequest r;
        *r.mutable_session() = item.notice().session();
        *r.mutable_registrations() = item.notice().registrations();
        status = Await<int64_t>([&](auto cb) {
                   to.registry->ApplyNotice(node, r, std::move(cb));
                 }).status();
      } else {
        federation::v1::OfferRegistrationRequest r;
        *r.mutable_registration() = item.registration().registration();
        r.set_request_id(item.registration().request_id());
        auto reg = Await<v1::Registration>(
            [&](auto cb) { to.registry->ApplyOffer(node, r, std::move(cb)); });
        status = reg.status();
        if (reg.ok()) response = reg->SerializeAsString();
      }
      EXPECT_TRUE(status.ok()) << status;
      answer({status.ok() ? Outbox::Verdict::kDelivered : Outbox::Verdict::kRefused,
              std::string(status.message()), response});
    };
    while (from.registry->outbox()->Pump(to.unit) > 0) from.registry->outbox()->Drain();
    from.registry->outbox()->Drain();
    from.route = nullptr;
    return n;
  }
  bool Settled(Node& n) {
    return testing::WaitFor([&] { return n.registry->outbox()->List().empty(); }, absl::Seconds(5));
  }

  testing::TempDir dir_;
  FakeClock clock_{absl::FromCivil(absl::CivilSecond(2026, 9, 21, 9, 0, 0), VietnamTimeZone())};
  std::unique_ptr<WorkingCalendar> calendar_;
  std::unique_ptr<RuleBook> rules_;
  std::unique_ptr<Topology> topology_;
  std::unique_ptr<Node> host_, bridge_;
  Principal officer_{"officer.lan", Role::kReceptionOfficer, "48"};
  Principal head_{"chairman.son", Role::kHead, "48"};
};

TEST_F(SchedulingRegistryTest, SessionsAreCheckedForConflictsAndKeptAcrossARestart) {
  const absl::CivilDay friday(2026, 9, 25);
  auto s = Create(Online(friday, "08:00", "10:00", 2), "req-1");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->name(), "sessions/48-20260925-1");
  EXPECT_EQ(s->state(), v1::SESSION_STATE_SCHEDULED);
  // The same request again: the same session.
  EXPECT_EQ(Create(Online(friday, "08:00", "10:00", 2), "req-1")->name(), s->name());
  // The presiding official is booked; a bridge is booked; a day off; hours.
  auto clash = Create(Online(friday, "09:00", "11:00", 2));
  EXPECT_EQ(clash.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(clash.status().message(), "chairman.son")) << clash.status();
  auto other = Online(friday, "09:30", "11:00", 2);
  other.set_presiding("vice.chairman");
  EXPECT_TRUE(absl::StrContains(Create(other).status().message(),
                                "bridge 48-29 is already in sessions/48-20260925-1"));
  EXPECT_TRUE(absl::StrContains(
      Create(Online(absl::CivilDay(2026, 9, 2), "08:00", "10:00", 2)).status().message(),
      "is a day off"));
  EXPECT_TRUE(absl::StrContains(Create(Online(friday, "16:30", "18:00", 2)).status().message(),
                                "working hours"));
  // Bad input names the field.
  auto bad = Online(friday, "13:00", "14:00", 0);
  EXPECT_TRUE(absl::StrContains(Create(bad).status().message(), "session.bridges[0].capacity"));
  v1::Session unscheduled;
  unscheduled.set_kind(v1::SESSION_KIND_UNSCHEDULED);
  *unscheduled.mutable_date() = ToProtoDate(friday);
  unscheduled.set_start("14:00");
  unscheduled.set_end("15:00");
  unscheduled.set_presiding("vice.chairman");
  EXPECT_TRUE(absl::StrContains(Create(unscheduled).status().message(), "session.reason"));
  // Citizens and other units may not schedule.
  v1::CreateSessionRequest r;
  *r.mutable_session() = Online(friday, "13:00", "14:00", 2);
  const Principal commune{"officer.mai", Role::kReceptionOfficer, "48-29"};
  EXPECT_EQ(Await<v1::Session>(
                [&](auto cb) { host_->registry->CreateSession(commune, r, std::move(cb)); })
                .status()
                .code(),
            absl::StatusCode::kPermissionDenied);

  host_->Reopen();
  auto again = host_->registry->GetSession(s->name());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->presiding(), "chairman.son");
  EXPECT_EQ(Create(Online(friday, "08:00", "10:00", 2), "req-1")->name(),
            s->name());  // idempotency survives
}

// ListSessions pages in date and start order; the token is bound to its
// range.
TEST_F(SchedulingRegistryTest, SessionsAreListedAPageAtATime) {
  std::vector<std::string> created;
  for (const auto& [day, start, end] :
       {std::tuple{absl::CivilDay(2026, 9, 28), "08:00", "09:00"},
        std::tuple{absl::CivilDay(2026, 9, 25), "14:00", "15:00"},
        std::tuple{absl::CivilDay(2026, 9, 25), "08:00", "09:00"}}) {
    auto s = Create(Online(day, start, end, 2));
    ASSERT_TRUE(s.ok()) << s.status();
    created.push_back(s->name());
  }
  v1::ListSessionsRequest r;
  *r.mutable_from() = ToProtoDate(absl::CivilDay(2026, 9, 21));
  *r.mutable_to() = ToProtoDate(absl::CivilDay(2026, 9, 30));
  r.set_page_size(2);
  auto first = host_->registry->ListSessions(r);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_EQ(first->sessions_size(), 2);
  EXPECT_EQ(first->sessions(0).name(), created[2]);  // 25 Sep 08:00
  EXPECT_EQ(first->sessions(1).name(), created[1]);  // 25 Sep 14:00
  ASSERT_FALSE(first->next_page_token().empty());
  r.set_page_token(first->next_page_token());
  auto second = host_->registry->ListSessions(r);
  ASSERT_TRUE(second.ok()) << second.status();
  ASSERT_EQ(second->sessions_size(), 1);
  EXPECT_EQ(second->sessions(0).name(), created[0]);
  EXPECT_TRUE(second->next_page_token().empty());
  // The token of another range is refused.
  *r.mutable_to() = ToProtoDate(absl::CivilDay(2026, 10, 31));
  EXPECT_EQ(host_->registry->ListSessions(r).status().message(),
            "page_token is not a token ListSessions returned for this from and to");
  r.clear_page_token();
  r.set_page_size(1001);
  EXPECT_EQ(host_->registry->ListSessions(r).status().code(), absl::StatusCode::kInvalidArgument);

  // Etags: a change made on a stale read is refused, on a fresh one done.
  auto read = host_->registry->GetSession(created[0]);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->etag(), "v1");
  v1::RescheduleSessionRequest move;
  move.set_name(created[0]);
  *move.mutable_date() = ToProtoDate(absl::CivilDay(2026, 9, 29));
  move.set_start("08:00");
  move.set_end("09:00");
  move.set_etag(read->etag());
  auto moved = Await<v1::Session>(
      [&](auto cb) { host_->registry->RescheduleSession(officer_, move, std::move(cb)); });
  ASSERT_TRUE(moved.ok()) << moved.status();
  EXPECT_EQ(moved->etag(), "v2");
  v1::CancelSessionRequest cancel;
  cancel.set_name(created[0]);
  cancel.set_reason("Trùng lịch họp");
  cancel.set_etag(read->etag());  // stale: read before the move
  auto stale = Await<v1::Session>(
      [&](auto cb) { host_->registry->CancelSession(officer_, cancel, std::move(cb)); });
  EXPECT_EQ(stale.status().code(), absl::StatusCode::kAborted);
  EXPECT_EQ(stale.status().message(),
            "etag v1 is stale: " + created[0] + " is now at v2; read it again");
  EXPECT_EQ(host_->registry->GetSession(created[0])->state(), v1::SESSION_STATE_SCHEDULED);
}

TEST_F(SchedulingRegistryTest, QueueNumbersWaitingListCheckInAndNoShows) {
  const absl::CivilDay friday(2026, 9, 25);
  auto s = Create(Online(friday, "08:00", "10:00", 2));
  ASSERT_TRUE(s.ok());
  auto a = Register(*host_, s->name(), "48-29", "049201000001", "a");
  auto b = Register(*host_, s->name(), "48-29", "049201000002", "b");
  auto c = Register(*host_, s->name(), "48-29", "049201000003", "c");
  ASSERT_TRUE(a.ok() && b.ok() && c.ok()) << a.status() << b.status() << c.status();
  EXPECT_EQ(a->queue_number(), 1);
  EXPECT_EQ(b->queue_number(), 2);
  EXPECT_EQ(c->state(), v1::REGISTRATION_STATE_WAITING);
  EXPECT_EQ(c->waiting_position(), 1);
  // A retry is the same registration; the same citizen twice is refused.
  EXPECT_EQ(Register(*host_, s->name(), "48-29", "049201000001", "a")->name(), a->name());
  EXPECT_EQ(Register(*host_, s->name(), "48-29", "049201000001", "a2").status().code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_TRUE(
      absl::StrContains(Register(*host_, s->name(), "48-29", "12345", "z").status().message(),
                        "registration.citizen_id"));
  // A cancellation moves the waiting list up, with a notice.
  v1::CancelRegistrationRequest cancel;
  cancel.set_name(a->name());
  ASSERT_FALSE(a->etag().empty());
  cancel.set_etag(a->etag());
  auto cancelled = Await<v1::Registration>(
      [&](auto cb) { host_->registry->CancelRegistration(officer_, cancel, std::move(cb)); });
  ASSERT_TRUE(cancelled.ok()) << cancelled.status();
  EXPECT_NE(cancelled->etag(), a->etag());
  // c moved up from the waiting list: the etag read before is stale.
  v1::CancelRegistrationRequest stale;
  stale.set_name(c->name());
  stale.set_etag(c->etag());
  auto refused = Await<v1::Registration>(
      [&](auto cb) { host_->registry->CancelRegistration(officer_, stale, std::move(cb)); });
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kAborted) << refused.status();
  auto session = host_->registry->GetSession(s->name());
  EXPECT_EQ(session->bridges(0).registered(), 2);
  EXPECT_EQ(session->bridges(0).waiting(), 0);
  auto notices = host_->registry->Notifications(Page(10)).value();
  ASSERT_GE(notices.notifications_size(), 1);
  EXPECT_EQ(notices.notifications(0).kind(), "moved_up");
  EXPECT_EQ(notices.notifications(0).registration(), c->name());
  // Older notices page by page; a token that is not one is refused.
  auto first = host_->registry->Notifications(Page(1));
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->notifications_size(), 1);
  EXPECT_EQ(first->notifications(0).kind(), "moved_up");
  int seen = 1;
  for (std::string token = first->next_page_token(); !token.empty();) {
    auto page = host_->registry->Notifications(Page(1, token));
    ASSERT_TRUE(page.ok()) << page.status();
    seen += page->notifications_size();
    token = page->next_page_token();
  }
  EXPECT_EQ(seen, notices.notifications_size());
  EXPECT_EQ(host_->registry->Notifications(Page(1, "bm9wZQ")).status().message(),
            "page_token is not a token ListNotifications returned");
  auto agenda = host_->registry->Agenda(officer_, s->name());
  ASSERT_EQ(agenda->items_size(), 2);
  EXPECT_EQ(agenda->items(0).registration(), b->name());
  EXPECT_EQ(agenda->items(1).queue_number(), 3);
  // Past the cut-off (end of 23 September).
  clock_.Set(absl::FromCivil(absl::CivilSecond(2026, 9, 24, 8, 0, 0), VietnamTimeZone()));
  EXPECT_TRUE(absl::StrContains(
      Register(*host_, s->name(), "48-1", "049201000009", "late").status().message(),
      "closed at the end of 2026-09-23"));
  // Check-in on the day, identity checked.
  v1::CheckInCitizenRequest in;
  in.set_name(b->name());
  in.set_citizen_id("049201000002");
  EXPECT_EQ(Await<v1::Registration>(
                [&](auto cb) { host_->registry->CheckInCitizen(officer_, in, std::move(cb)); })
                .status()
                .code(),
            absl::StatusCode::kFailedPrecondition);  // not the day yet
  clock_.Set(absl::FromCivil(absl::CivilSecond(2026, 9, 25, 7, 45, 0), VietnamTimeZone()));
  in.set_citizen_id("049201000099");
  EXPECT_EQ(Await<v1::Registration>(
                [&](auto cb) { host_->registry->CheckInCitizen(officer_, in, std::move(cb)); })
                .status()
                .code(),
            absl::StatusCode::kPermissionDenied);
  in.set_citizen_id("049201000002");
  auto checked = Await<v1::Registration>(
      [&](auto cb) { host_->registry->CheckInCitizen(officer_, in, std::move(cb)); });
  ASSERT_TRUE(checked.ok()) << checked.status();
  EXPECT_EQ(checked->state(), v1::REGISTRATION_STATE_CHECKED_IN);
  // Recorded: who did not come is a no-show; the day counts for compliance.
  v1::RecordSessionRequest rec;
  rec.set_name(s->name());
  rec.mutable_record()->set_presided_by("Phó Chủ tịch Trần Văn Bình");
  rec.mutable_record()->set_presiding_role(v1::PRESIDING_ROLE_DEPUTY);
  rec.mutable_record()->set_citizens(1);
  ASSERT_TRUE(Await<v1::Session>([&](auto cb) {
                host_->registry->RecordSession(head_, rec, std::move(cb));
              }).ok());
  agenda = host_->registry->Agenda(officer_, s->name());
  EXPECT_EQ(agenda->items(0).state(), v1::REGISTRATION_STATE_CHECKED_IN);
  EXPECT_EQ(agenda->items(1).state(), v1::REGISTRATION_STATE_NO_SHOW);
  v1::GetComplianceReportRequest report;
  report.set_period(v1::REPORT_PERIOD_MONTH);
  report.set_year(2026);
  report.set_number(9);
  auto compliance = host_->registry->Compliance(report);
  ASSERT_TRUE(compliance.ok()) << compliance.status();
  ASSERT_EQ(compliance->spans_size(), 1);  // the city is a province-level unit: monthly
  EXPECT_EQ(compliance->spans(0).held(), 1);
  EXPECT_EQ(compliance->presided_by_deputy(), 1);
  EXPECT_FALSE(compliance->spans(0).gap());
  report.set_number(8);
  EXPECT_TRUE(host_->registry->Compliance(report)->spans(0).gap());
  // The calendar feed.
  v1::ExportCalendarRequest feed;
  *feed.mutable_from() = ToProtoDate(absl::CivilDay(2026, 9, 1));
  *feed.mutable_to() = ToProtoDate(absl::CivilDay(2026, 9, 30));
  auto ical = host_->registry->ExportCalendar(feed);
  ASSERT_TRUE(ical.ok()) << ical.status();
  EXPECT_TRUE(absl::StrContains(*ical, "BEGIN:VCALENDAR"));
  EXPECT_TRUE(absl::StrContains(*ical, "UID:48-20260925-1@reception"));
  EXPECT_TRUE(absl::StrContains(*ical, "DTSTART:20260925T010000Z"));  // 08:00 in Vietnam
}

TEST_F(SchedulingRegistryTest, ABridgeLearnsOfSessionsAndItsRegistrationsReachTheHostOnce) {
  const absl::CivilDay friday(2026, 9, 25);
  auto s = Create(Online(friday, "08:00", "10:00", 1));
  ASSERT_TRUE(s.ok());
  // Host -> bridge: the session (48-1 has no node here: nothing queued for it).
  EXPECT_EQ(Deliver(*host_, *bridge_), 1);
  ASSERT_TRUE(Settled(*host_));
  auto copy = bridge_->registry->GetSession(s->name());
  ASSERT_TRUE(copy.ok()) << copy.status();
  EXPECT_TRUE(copy->replica());
  // Two citizens register at the commune while it is offline: kept, pending.
  auto an = Register(*bridge_, s->name(), "48-29", "049201000011", "an");
  auto binh = Register(*bridge_, s->name(), "48-29", "049201000012", "binh");
  ASSERT_TRUE(an.ok() && binh.ok()) << an.status() << binh.status();
  EXPECT_EQ(an->state(), v1::REGISTRATION_STATE_PENDING);
  EXPECT_TRUE(absl::StrContains(
      Register(*bridge_, s->name(), "48-1", "049201000013", "x").status().message(),
      "registration.bridge_unit"));
  bridge_->Reopen();  // the commune's node restarts while offline
  EXPECT_EQ(bridge_->registry->outbox()->List().size(), 2u);
  // The link returns: delivered; a second delivery of the same offers (a
  // lost acknowledgement) changes nothing at the host.
  auto outbox = Owed(*bridge_->registry);
  const Principal node{"node:48-29", Role::kNode, "48-29"};
  for (const auto& o : outbox) {
    federation::v1::OfferRegistrationRequest r;
    *r.mutable_registration() = o.registration().registration();
    r.set_request_id(o.registration().request_id());
    ASSERT_TRUE(Await<v1::Registration>([&](auto cb) {
                  host_->registry->ApplyOffer(node, r, std::move(cb));
                }).ok());
  }
  EXPECT_EQ(Deliver(*bridge_, *host_), 2);
  ASSERT_TRUE(Settled(*bridge_));
  auto agenda = host_->registry->Agenda(officer_, s->name());
  ASSERT_EQ(agenda->items_size(), 1);  // capacity 1: one seat
  EXPECT_EQ(agenda->items(0).registration(), an->name());
  EXPECT_EQ(host_->registry->GetSession(s->name())->bridges(0).waiting(), 1);
  // The bridge's copies show the host's answer.
  auto mine = bridge_->registry->Agenda(Principal{"officer.mai", Role::kReceptionOfficer, "48-29"},
                                        s->name());
  ASSERT_EQ(mine->items_size(), 1);
  EXPECT_EQ(mine->items(0).queue_number(), 1);
  // Cancelling at the bridge frees the seat at the host; the notice back
  // moves the waiting citizen up at the bridge too, with a notice.
  v1::CancelRegistrationRequest cancel;
  cancel.set_name(an->name());
  const Principal mai{"officer.mai", Role::kReceptionOfficer, "48-29"};
  ASSERT_TRUE(Await<v1::Registration>([&](auto cb) {
                bridge_->registry->CancelRegistration(mai, cancel, std::move(cb));
              }).ok());
  EXPECT_EQ(Deliver(*bridge_, *host_), 1);
  EXPECT_GE(Deliver(*host_, *bridge_), 1);
  ASSERT_TRUE(Settled(*host_));
  mine = bridge_->registry->Agenda(Principal{"officer.mai", Role::kReceptionOfficer, "48-29"},
                                   s->name());
  ASSERT_EQ(mine->items_size(), 1);
  EXPECT_EQ(mine->items(0).registration(), binh->name());
  EXPECT_EQ(bridge_->registry->Notifications(Page(10)).value().notifications(0).kind(), "moved_up");
  // The host cancels: the bridge learns and tells its citizen.
  v1::CancelSessionRequest off;
  off.set_name(s->name());
  off.set_reason("Chủ tịch đi công tác đột xuất");
  ASSERT_TRUE(Await<v1::Session>([&](auto cb) {
                host_->registry->CancelSession(officer_, off, std::move(cb));
              }).ok());
  Deliver(*host_, *bridge_);
  EXPECT_EQ(bridge_->registry->GetSession(s->name())->state(), v1::SESSION_STATE_CANCELLED);
  EXPECT_EQ(bridge_->registry->Notifications(Page(10)).value().notifications(0).kind(),
            "session_cancelled");
  // Notices only come from the host's node.
  federation::v1::OfferSessionNoticeRequest forged;
  *forged.mutable_session() = *host_->registry->GetSession(s->name());
  EXPECT_EQ(
      Await<int64_t>([&](auto cb) { bridge_->registry->ApplyNotice(mai, forged, std::move(cb)); })
          .status()
          .code(),
      absl::StatusCode::kPermissionDenied);
  // ... from a configured peer, with a real date and times.
  const Principal stranger{"node:48-3", Role::kNode, "48-3"};
  forged.mutable_session()->set_host_unit("48-3");
  auto not_peer = Await<int64_t>(
      [&](auto cb) { bridge_->registry->ApplyNotice(stranger, forged, std::move(cb)); });
  EXPECT_EQ(not_peer.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(absl::StrContains(not_peer.status().message(), "not a federation peer"))
      << not_peer.status();
  const Principal host_node{"node:48", Role::kNode, "48"};
  *forged.mutable_session() = *host_->registry->GetSession(s->name());
  forged.mutable_session()->mutable_date()->set_month(13);
  EXPECT_EQ(Await<int64_t>(
                [&](auto cb) { bridge_->registry->ApplyNotice(host_node, forged, std::move(cb)); })
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  *forged.mutable_session() = *host_->registry->GetSession(s->name());
  forged.mutable_session()->set_end("07:00");
  EXPECT_EQ(Await<int64_t>(
                [&](auto cb) { bridge_->registry->ApplyNotice(host_node, forged, std::move(cb)); })
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  // Registrations only from a bridge point of that session, and validated
  // like one taken at the host.
  federation::v1::OfferRegistrationRequest offer;
  offer.mutable_registration()->set_session(s->name());
  offer.mutable_registration()->set_bridge_unit("48-29");
  offer.mutable_registration()->set_full_name("Lê Văn\nforged");
  offer.mutable_registration()->set_citizen_id("049201000099");
  offer.mutable_registration()->set_summary("x");
  offer.set_request_id("48-29/x1");
  auto bad_text = Await<v1::Registration>(
      [&](auto cb) { host_->registry->ApplyOffer(node, offer, std::move(cb)); });
  EXPECT_EQ(bad_text.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(bad_text.status().message(), "registration.full_name"))
      << bad_text.status();
  const Principal other_bridge{"node:48-3", Role::kNode, "48-3"};
  offer.mutable_registration()->set_bridge_unit("48-3");
  offer.mutable_registration()->set_full_name("Lê Văn Tám");
  offer.set_request_id("48-3/x2");
  EXPECT_EQ(Await<v1::Registration>(
                [&](auto cb) { host_->registry->ApplyOffer(other_bridge, offer, std::move(cb)); })
                .status()
                .code(),
            absl::StatusCode::kPermissionDenied);
}

// A peer that is not a bridge point of the session cannot register for it.
// A citizen registered at the host for the bridge reaches the bridge's copy
// and its agenda (issue 18, item 5), across a restart of either node.
TEST_F(SchedulingRegistryTest, ARegistrationTakenAtTheHostForABridgeReachesTheBridge) {
  const absl::CivilDay friday(2026, 9, 25);
  auto s = Create(Online(friday, "08:00", "10:00", 5));
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(Deliver(*host_, *bridge_), 1);
  auto mai = Register(*host_, s->name(), "48-29", "049201000021", "mai");
  ASSERT_TRUE(mai.ok()) << mai.status();
  bridge_->Reopen();
  Deliver(*host_, *bridge_);
  const Principal commune_staff{"officer.xa", Role::kReceptionOfficer, "48-29"};
  auto names = [&] {
    std::vector<std::string> out;
    auto agenda = bridge_->registry->Agenda(commune_staff, s->name());
    EXPECT_TRUE(agenda.ok()) << agenda.status();
    if (agenda.ok()) {
      for (const auto& item : agenda->items()) out.push_back(item.full_name());
    }
    return out;
  };
  EXPECT_EQ(names(), std::vector<std::string>{"Nguyễn Văn mai"});
  // Again after the host restarts, with a second one; each once.
  host_->Reopen();
  ASSERT_TRUE(Register(*host_, s->name(), "48-29", "049201000022", "lan").ok());
  Deliver(*host_, *bridge_);
  Deliver(*host_, *bridge_);
  bridge_->Reopen();
  auto after = names();
  std::sort(after.begin(), after.end());
  EXPECT_EQ(after, (std::vector<std::string>{"Nguyễn Văn lan", "Nguyễn Văn mai"}));
  // A registration for another bridge is not this bridge's business.
  ASSERT_TRUE(Register(*host_, s->name(), "48-1", "049201000023", "khac").ok());
  Deliver(*host_, *bridge_);
  EXPECT_EQ(names().size(), 2u);
}

TEST_F(SchedulingRegistryTest, OnlyTheSessionsBridgePointsOfferRegistrations) {
  // A host with two peers; the session lists only 48-29 as a bridge.
  Node host("48", std::set<std::string>{"48-29", "48-5"}, calendar_.get(), rules_.get(),
            topology_.get(), &clock_, dir_.Join("host2"));
  v1::Session online = Online(absl::CivilDay(2026, 12, 15), "08:00", "11:00", 2);
  online.mutable_bridges()->DeleteSubrange(1, online.bridges_size() - 1);
  v1::CreateSessionRequest create;
  *create.mutable_session() = online;
  auto s = Await<v1::Session>(
      [&](auto cb) { host.registry->CreateSession(officer_, create, std::move(cb)); });
  ASSERT_TRUE(s.ok()) << s.status();
  federation::v1::OfferRegistrationRequest offer;
  offer.mutable_registration()->set_session(s->name());
  offer.mutable_registration()->set_bridge_unit("48-5");
  offer.mutable_registration()->set_full_name("Lê Văn Tám");
  offer.mutable_registration()->set_citizen_id("049201000099");
  offer.mutable_registration()->set_summary("Đất đai");
  *offer.mutable_registration()->mutable_create_time() = google::protobuf::Timestamp();
  offer.set_request_id("48-5/r1");
  const Principal peer{"node:48-5", Role::kNode, "48-5"};
  auto refused = Await<v1::Registration>(
      [&](auto cb) { host.registry->ApplyOffer(peer, offer, std::move(cb)); });
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(absl::StrContains(refused.status().message(), "not a bridge point of"))
      << refused.status();
}

// Every byte under a directory, as one string (RocksDB's WAL, tables and
// logs): what a stolen disk would show.
std::string ReadTree(const std::string& dir) {
  std::string all;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) all += testing::ReadFile(e.path().string());
  }
  return all;
}

TEST_F(SchedulingRegistryTest, RegistrantsAreSealedAtRestMaskedForPeopleAndShownOnlyToStaff) {
  const absl::CivilDay friday(2026, 9, 25);
  auto s = Create(Online(friday, "08:00", "10:00", 5));
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(Deliver(*host_, *bridge_), 1);
  auto at_host = Register(*host_, s->name(), "48-1", "079301004321", "hoa");
  auto at_bridge = Register(*bridge_, s->name(), "48-29", "079301008765", "lan");  // in the outbox
  ASSERT_TRUE(at_host.ok() && at_bridge.ok()) << at_host.status() << at_bridge.status();
  // A denouncer registers at the host for the commune's bridge.
  v1::RegisterCitizenRequest secret;
  secret.set_request_id("to-cao-1");
  auto* reg = secret.mutable_registration();
  reg->set_session(s->name());
  reg->set_bridge_unit("48-29");
  reg->set_full_name("Trần Thị Tố Cáo");
  reg->set_citizen_id("079301005555");
  reg->set_case_("cases/48-2026-000042");
  reg->set_identity_protected(true);
  auto protected_reg = Await<v1::Registration>(
      [&](auto cb) { host_->registry->RegisterCitizen(officer_, secret, std::move(cb)); });
  ASSERT_TRUE(protected_reg.ok()) << protected_reg.status();
  EXPECT_TRUE(protected_reg->identity_protected());

  // At rest: neither node's files hold a citizen ID or a name in clear.
  for (const auto* dir : {&host_->path, &bridge_->path}) {
    const std::string disk = ReadTree(*dir);
    ASSERT_FALSE(disk.empty());
    for (const char* secret_text : {"079301004321", "079301008765", "079301005555",
                                    "Nguyễn Văn hoa", "Nguyễn Văn lan", "Trần Thị Tố Cáo"}) {
      EXPECT_FALSE(absl::StrContains(disk, secret_text)) << *dir << " holds " << secret_text;
    }
  }
  // ... and they come back on restart: check-in still matches the ID, and
  // the bridge's offer still carries it to the host.
  host_->Reopen();
  bridge_->Reopen();
  EXPECT_EQ(Deliver(*bridge_, *host_), 1);
  clock_.Set(absl::FromCivil(absl::CivilSecond(2026, 9, 25, 7, 45, 0), VietnamTimeZone()));
  v1::CheckInCitizenRequest in;
  in.set_name(at_host->name());
  in.set_citizen_id("079301004321");
  auto checked = Await<v1::Registration>(
      [&](auto cb) { host_->registry->CheckInCitizen(officer_, in, std::move(cb)); });
  ASSERT_TRUE(checked.ok()) << checked.status();
  EXPECT_EQ(checked->checked_in_by(), "officer.lan");
  EXPECT_TRUE(checked->has_check_in_time());
  // People see the ID masked.
  EXPECT_EQ(SchedulingRegistry::ForPeople(*checked).citizen_id(), "*********321");

  // The agenda: names for the host's staff and the bridge's staff only;
  // the protected registration shows nobody else more than its seat.
  auto names = [&](const Principal& p) {
    std::map<std::string, std::string> out;
    auto agenda = host_->registry->Agenda(p, s->name());
    EXPECT_TRUE(agenda.ok()) << agenda.status();
    for (const auto& item : agenda->items())
      out[item.registration()] = item.full_name() + "|" + item.case_();
    return out;
  };
  auto host_view = names(officer_);
  EXPECT_EQ(host_view[protected_reg->name()], "Trần Thị Tố Cáo|cases/48-2026-000042");
  EXPECT_EQ(host_view[at_host->name()], "Nguyễn Văn hoa|");
  auto commune_view = names(Principal{"officer.mai", Role::kReceptionOfficer, "48-29"});
  EXPECT_EQ(commune_view[protected_reg->name()], "Trần Thị Tố Cáo|cases/48-2026-000042");
  EXPECT_EQ(commune_view[at_host->name()], "|");  // 48-1's citizen
  for (const Principal& other : {Principal{"auditor", Role::kViewer, "48"},
                                 Principal{"officer.x", Role::kReceptionOfficer, "48-1"},
                                 Principal{"inspector.tinh", Role::kInspector, "48-29-7"}}) {
    auto view = names(other);
    EXPECT_EQ(view[protected_reg->name()], "|") << other.subject;
  }
  EXPECT_EQ(names(Principal{"officer.x", Role::kReceptionOfficer, "48-1"})[at_host->name()],
            "Nguyễn Văn hoa|");
  auto agenda = host_->registry->Agenda(Principal{"auditor", Role::kViewer, "48"}, s->name());
  bool flagged = false;
  for (const auto& item : agenda->items()) {
    if (item.registration() == protected_reg->name()) flagged = item.identity_protected();
  }
  EXPECT_TRUE(flagged);
}

TEST_F(SchedulingRegistryTest, ABridgeCheckInNeedsTheIdentityCheckRecorded) {
  const absl::CivilDay friday(2026, 9, 25);
  auto s = Create(Online(friday, "08:00", "10:00", 5));
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(Deliver(*host_, *bridge_), 1);
  auto an = Register(*bridge_, s->name(), "48-29", "079301001111", "an");
  ASSERT_TRUE(an.ok()) << an.status();
  auto outbox = Owed(*bridge_->registry);
  ASSERT_EQ(outbox.size(), 1u);
  const Principal node{"node:48-29", Role::kNode, "48-29"};
  clock_.Set(absl::FromCivil(absl::CivilSecond(2026, 9, 25, 8, 0, 0), VietnamTimeZone()));
  auto offer = [&](v1::Registration r) {
    federation::v1::OfferRegistrationRequest req;
    *req.mutable_registration() = std::move(r);
    req.set_request_id(outbox[0].registration().request_id());
    return Await<v1::Registration>(
        [&](auto cb) { host_->registry->ApplyOffer(node, req, std::move(cb)); });
  };
  // A bridge claiming CHECKED_IN without saying who checked the identity.
  v1::Registration claimed = outbox[0].registration().registration();
  EXPECT_EQ(claimed.citizen_id(), "079301001111");  // opened for sending
  claimed.set_state(v1::REGISTRATION_STATE_CHECKED_IN);
  auto no_record = offer(claimed);
  EXPECT_EQ(no_record.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(no_record.status().message(), "registration.checked_in_by"))
      << no_record.status();
  claimed.set_checked_in_by("officer.mai");
  EXPECT_TRUE(absl::StrContains(offer(claimed).status().message(), "registration.check_in_time"));
  // A check-in dated another day than the session's, or in the future.
  claimed.mutable_check_in_time()->set_seconds(absl::ToUnixSeconds(
      absl::FromCivil(absl::CivilSecond(2026, 9, 24, 8, 0, 0), VietnamTimeZone())));
  auto wrong_day = offer(claimed);
  EXPECT_TRUE(absl::StrContains(wrong_day.status().message(), "session's day"))
      << wrong_day.status();
  claimed.mutable_check_in_time()->set_seconds(absl::ToUnixSeconds(
      absl::FromCivil(absl::CivilSecond(2026, 9, 25, 11, 0, 0), VietnamTimeZone())));
  EXPECT_EQ(offer(claimed).status().code(), absl::StatusCode::kInvalidArgument);
  // Nothing of that reached the host.
  EXPECT_EQ(host_->registry->Agenda(officer_, s->name())->items_size(), 0);
  // Checked in at the bridge for real: the record travels and the host takes it.
  v1::CheckInCitizenRequest in;
  in.set_name(an->name());
  in.set_citizen_id("079301001111");
  const Principal mai{"officer.mai", Role::kReceptionOfficer, "48-29"};
  EXPECT_EQ(Await<v1::Registration>(
                [&](auto cb) { bridge_->registry->CheckInCitizen(mai, in, std::move(cb)); })
                .status()
                .code(),
            absl::StatusCode::kFailedPrecondition);  // pending: the host has not confirmed it
  EXPECT_EQ(Deliver(*bridge_, *host_), 1);
  EXPECT_GE(Deliver(*host_, *bridge_), 1);
  auto checked = Await<v1::Registration>(
      [&](auto cb) { bridge_->registry->CheckInCitizen(mai, in, std::move(cb)); });
  ASSERT_TRUE(checked.ok()) << checked.status();
  EXPECT_EQ(Deliver(*bridge_, *host_), 1);
  auto agenda = host_->registry->Agenda(officer_, s->name());
  ASSERT_EQ(agenda->items_size(), 1);
  EXPECT_EQ(agenda->items(0).state(), v1::REGISTRATION_STATE_CHECKED_IN);
}

}  // namespace
}  // namespace reception::scheduling
