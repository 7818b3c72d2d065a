// Oversight between real receptiond processes over mTLS: a parent follows
// the change feeds of the nodes just below it and republishes them, so a
// province sees what its districts and communes receive (three levels of
// Quảng Nam 2024, two of Đà Nẵng 2025). Nodes are stopped, killed and
// restarted while cases are created; the parent converges and the
// protected identity reaches no parent.
#include <stdio.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "reception/cases/v1/case_service.grpc.pb.h"
#include "reception/cases/v1/handoff_service.grpc.pb.h"
#include "reception/federation/v1/case_federation.grpc.pb.h"
#include "reception/scheduling/v1/scheduling_service.grpc.pb.h"
#include "services/common/civil_date.h"
#include "services/common/test_support.h"
#include "tests/integration/federation_harness.h"
#include "tests/integration/node_process.h"

namespace reception::testing {
namespace {

namespace fed = federation::v1;

std::string g_receptiond;
std::string g_receptionctl;

// Followers hear from a quiet child every 200 ms.
constexpr char kFastFollow[] =
    "federation:\n  retry_initial_millis: 100\n  retry_max_millis: 1000\n"
    "  follow:\n    heartbeat_millis: 200\n";

// The subtree as `unit`'s node lists it: case number -> case.
std::map<std::string, v1::Case> Subtree(Client& client, const std::string& within = "") {
  std::map<std::string, v1::Case> out;
  v1::ListCasesRequest r;
  r.set_scope(v1::LIST_SCOPE_SUBTREE);
  r.set_within_unit(within);
  r.set_page_size(500);
  for (;;) {
    auto page = client.Call(client.cases(), &v1::CaseService::Stub::ListCases, r, "viewer");
    if (!page.ok()) return {};
    for (const auto& c : page->cases()) {
      // Each case once: a second sight of a number is a defect.
      if (!out.emplace(c.number(), c).second) ADD_FAILURE() << "listed twice: " << c.number();
    }
    if (page->next_page_token().empty()) return out;
    r.set_page_token(page->next_page_token());
  }
}

std::optional<v1::FollowStatus> Following(Client& client, const std::string& unit) {
  auto s = client.Call(client.handoffs(), &v1::HandoffService::Stub::GetFederationStatus,
                       v1::GetFederationStatusRequest(), "viewer");
  if (!s.ok()) return std::nullopt;
  for (const auto& f : s->followed()) {
    if (f.unit_code() == unit) return f;
  }
  return std::nullopt;
}

// Every file under `dir`, searched for `needle` as raw bytes (the stores
// are not compressed, so a value written anywhere would be found).
std::vector<std::string> FilesContaining(const std::string& dir, const std::string& needle) {
  std::vector<std::string> out;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (bytes.find(needle) != std::string::npos) out.push_back(entry.path().string());
  }
  return out;
}

v1::Case CreateAt(Client& client, v1::CaseKind kind, const std::string& id,
                  const std::string& respondent, const std::string& name = "Trần Thị Mai",
                  const std::string& citizen_id = "049302001122") {
  v1::CreateCaseRequest r = SampleCase(kind, id, respondent, absl::CivilDay(2025, 6, 16),
                                       "Khiếu nại việc thu hồi đất nông nghiệp");
  r.mutable_case_()->mutable_petitioners(0)->set_full_name(name);
  r.mutable_case_()->mutable_petitioners(0)->set_citizen_id(citizen_id);
  auto out = client.Call(client.cases(), &v1::CaseService::Stub::CreateCase, r);
  EXPECT_TRUE(out.ok()) << id << ": " << out.status();
  return out.ok() ? *out : v1::Case();
}

// Commune 502-1 -> district 502 -> province 49: cases registered at the
// commune appear at both with their owner, read-only and redacted; a
// transfer leaves one case with its new owner; the commune stopped and the
// district killed mid-stream lose nothing and apply nothing twice.
TEST(OversightTest, ThreeLevelsOfQuangNam) {
  Federation f(g_receptiond, {"49", "502", "502-1"}, "2025-06-16",
               "deploy/topology/quang-nam-2024.yaml", kFastFollow);
  f.StartAll();
  Client commune(f.node("502-1"), "502-1");
  Client district(f.node("502"), "502");
  Client province(f.node("49"), "49");

  const v1::Case complaint = CreateAt(commune, v1::CASE_KIND_COMPLAINT, "o-1", "502-1");
  const v1::Case petition = CreateAt(commune, v1::CASE_KIND_PETITION, "o-2", "502-1");
  const v1::Case denunciation = CreateAt(commune, v1::CASE_KIND_DENUNCIATION, "o-3", "502-1",
                                         "Hoàng Văn Tố Giác", "049399887766");
  ASSERT_TRUE(denunciation.identity_protected());

  ASSERT_TRUE(WaitFor([&] { return Subtree(province).size() == 3; }, absl::Seconds(30)))
      << Subtree(province).size();
  auto seen = Subtree(province);
  for (const auto& c : {complaint, petition, denunciation}) {
    ASSERT_TRUE(seen.count(c.number())) << c.number();
    const v1::Case& r = seen[c.number()];
    EXPECT_EQ(r.owner_unit(), "502-1");
    EXPECT_EQ(r.state(), c.state());
    EXPECT_EQ(r.replica().origin_unit(), "502-1");
    EXPECT_EQ(r.replica().via_unit(), "502");  // the province follows its district
    for (const auto& p : r.petitioners()) EXPECT_TRUE(p.citizen_id().empty());
  }
  EXPECT_EQ(seen[denunciation.number()].petitioners_size(), 0);
  EXPECT_EQ(seen[complaint.number()].petitioners(0).full_name(), "Trần Thị Mai");
  EXPECT_EQ(Subtree(district).at(complaint.number()).replica().via_unit(), "502-1");
  // The node's own scope is unchanged: the province holds no case itself.
  auto own = province.Call(province.cases(), &v1::CaseService::Stub::ListCases,
                           v1::ListCasesRequest(), "viewer");
  ASSERT_TRUE(own.ok());
  EXPECT_EQ(own->cases_size(), 0);
  EXPECT_EQ(Subtree(province, "502-1").size(), 3u);
  EXPECT_EQ(Subtree(province, "502-2").size(), 0u);
  auto got = province.Get(complaint.name());
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->replica().via_unit(), "502");
  auto status = Following(province, "502");
  ASSERT_TRUE(status.has_value());
  EXPECT_TRUE(WaitFor(
      [&] {
        auto s = Following(province, "502");
        return s && s->reachable() && s->lag_entries() == 0 && s->applied_sequence() > 0;
      },
      absl::Seconds(10)));
  EXPECT_FALSE(Following(province, "502-1").has_value());  // not followed directly

  // Mutations stay at the owner: the province cannot classify a replica.
  v1::ClassifyCaseRequest classify;
  classify.set_name(complaint.name());
  classify.set_within_competence(true);
  EXPECT_FALSE(
      province.Call(province.cases(), &v1::CaseService::Stub::ClassifyCase, classify).ok());

  // Handed from the commune to the district: one case, its new owner.
  auto handoff = commune.Transfer(complaint.name(), "502", "o-t1");
  ASSERT_TRUE(handoff.ok()) << handoff.status();
  ASSERT_TRUE(WaitFor(
      [&] {
        auto s = Subtree(province);
        return s.size() == 3 && s.count(complaint.number()) &&
               s[complaint.number()].owner_unit() == "502";
      },
      absl::Seconds(30)));

  // The commune stopped: the district says so; cases made at the district
  // meanwhile arrive; the commune's own arrive once it is back.
  ASSERT_EQ(f.node("502-1").Stop(), 0);
  EXPECT_TRUE(WaitFor(
      [&] {
        auto s = Following(district, "502-1");
        return s && !s->reachable() && !s->last_error().empty();
      },
      absl::Seconds(15)));
  const v1::Case at_district = CreateAt(district, v1::CASE_KIND_PETITION, "o-4", "502");
  ASSERT_TRUE(WaitFor([&] { return Subtree(province).count(at_district.number()) == 1; },
                      absl::Seconds(30)));
  ASSERT_TRUE(f.node("502-1").Start().ok());
  commune.Reconnect();
  const v1::Case after_restart = CreateAt(commune, v1::CASE_KIND_PETITION, "o-5", "502-1");
  ASSERT_TRUE(WaitFor([&] { return Subtree(province).size() == 5; }, absl::Seconds(30)))
      << Subtree(province).size();

  // The district killed while the commune registers twenty cases: all
  // arrive at the province, each once.
  std::set<std::string> made;
  for (int i = 0; i < 20; ++i) {
    if (i == 5) f.node("502").Kill();
    made.insert(
        CreateAt(commune, v1::CASE_KIND_PETITION, absl::StrCat("o-k", i), "502-1").number());
  }
  ASSERT_TRUE(f.node("502").Start().ok());
  district.Reconnect();
  ASSERT_TRUE(WaitFor([&] { return Subtree(province).size() == 25; }, absl::Seconds(60)))
      << Subtree(province).size();
  auto all = Subtree(province);
  for (const auto& n : made) EXPECT_TRUE(all.count(n)) << n;
  EXPECT_EQ(all[after_restart.number()].owner_unit(), "502-1");

  // The province's report of June 2025 equals what every node says of its
  // own cases (each case once, by the newest record).
  std::map<std::string, v1::Case> direct;
  for (Client* c : {&commune, &district, &province}) {
    v1::ListCasesRequest lr;
    lr.set_page_size(500);
    auto page = c->Call(c->cases(), &v1::CaseService::Stub::ListCases, lr, "viewer");
    ASSERT_TRUE(page.ok()) << page.status();
    for (const auto& x : page->cases()) {
      auto it = direct.find(x.number());
      if (it == direct.end() ||
          std::make_pair(x.owner_epoch(), x.version()) >
              std::make_pair(it->second.owner_epoch(), it->second.version())) {
        direct[x.number()] = x;
      }
    }
  }
  int received_june = 0, at_502_1 = 0;
  for (const auto& [n, c] : direct) {
    if (c.received_date().year() == 2025 && c.received_date().month() == 6) {
      ++received_june;
      at_502_1 += c.reception_unit().code() == "502-1";
    }
  }
  v1::GetCaseReportRequest rr;
  rr.set_period(v1::CASE_REPORT_PERIOD_MONTH);
  rr.set_year(2025);
  rr.set_number(6);
  auto report =
      province.Call(province.cases(), &v1::CaseService::Stub::GetCaseReport, rr, "viewer");
  ASSERT_TRUE(report.ok()) << report.status();
  auto received = [](const v1::CaseReportRow& row) {
    for (const auto& c : row.counts()) {
      if (c.figure() == v1::REPORT_FIGURE_RECEIVED && !c.kind() && !c.channel()) return c.count();
    }
    return int64_t{-1};
  };
  EXPECT_EQ(received(report->total()), received_june);
  EXPECT_EQ(received_june, 25);
  for (const auto& row : report->rows()) {
    if (row.unit() == "502") EXPECT_EQ(received(row), received_june);
    if (row.unit() == "49") EXPECT_EQ(received(row), 0);
  }
  // The same through receptionctl, and the cases behind a count.
  const std::string ctl = absl::StrCat(g_receptionctl, f.node("49").CliFlags("viewer", "49"));
  const std::string table = Shell(absl::StrCat(ctl, " report --month 2025-06"));
  EXPECT_TRUE(absl::StrContains(table, "TOTAL")) << table;
  EXPECT_TRUE(absl::StrContains(table, "Thành phố Tam Kỳ")) << table;
  const std::string behind =
      Shell(absl::StrCat(ctl, " report --month 2025-06 --open received --row 502-1 2>/dev/null"));
  int lines = 0;
  for (char ch : behind) lines += ch == '\n';
  EXPECT_EQ(lines, at_502_1) << behind;

  // The protected identity is in no file of a parent; no citizen ID is in
  // the province's (the district holds one: the complaint handed to it).
  for (const char* unit : {"49", "502"}) {
    const std::string dir = absl::StrCat(f.dir(), "/", unit);
    EXPECT_EQ(FilesContaining(dir, "Hoàng Văn Tố Giác"), std::vector<std::string>{}) << unit;
    EXPECT_EQ(FilesContaining(dir, "049399887766"), std::vector<std::string>{}) << unit;
  }
  EXPECT_EQ(FilesContaining(absl::StrCat(f.dir(), "/49"), "049302001122"),
            std::vector<std::string>{});
  // Nor in a parent's metrics.
  for (const char* unit : {"49", "502"}) {
    const std::string metrics = ScrapeMetrics(f.node(unit).admin_port());
    EXPECT_TRUE(absl::StrContains(metrics, "reception_follow_lag_entries")) << unit;
    EXPECT_FALSE(absl::StrContains(metrics, "Hoàng Văn Tố Giác")) << unit;
    EXPECT_FALSE(absl::StrContains(metrics, "049399887766")) << unit;
  }
  // ... while the commune itself still holds it (the search is real).
  EXPECT_FALSE(FilesContaining(absl::StrCat(f.dir(), "/502-1"), "049302001122").empty());
}

// Only the node of a unit above reads a feed: a sibling's certificate, a
// child's, and a person's token are refused.
TEST(OversightTest, TheFeedIsServedOnlyToTheNodeAbove) {
  Federation f(g_receptiond, {"502", "502-1"}, "2025-06-16", "deploy/topology/quang-nam-2024.yaml",
               kFastFollow);
  f.StartAll();
  Client commune(f.node("502-1"), "502-1");
  CreateAt(commune, v1::CASE_KIND_PETITION, "f-1", "502-1");
  auto read_as = [&](NodeProcess& node, const std::string& unit) {
    EnsureNodeCertificate(unit);
    auto stub = fed::CaseFederationService::NewStub(node.NewChannelAs(unit));
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    fed::CaseFeedPage page;
    return stub->ReadCaseFeed(&ctx, fed::ReadCaseFeedRequest(), &page);
  };
  {
    auto s = read_as(f.node("502-1"), "502");
    EXPECT_TRUE(s.ok()) << s.error_code() << " " << s.error_message();
  }
  EXPECT_EQ(read_as(f.node("502-1"), "502-2").error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(read_as(f.node("502"), "502-1").error_code(), grpc::StatusCode::PERMISSION_DENIED);
  auto stub = fed::CaseFederationService::NewStub(f.node("502-1").NewChannel());
  grpc::ClientContext ctx;
  AddPrincipal(&ctx, "inspector", "502");
  fed::CaseFeedPage page;
  EXPECT_EQ(stub->ReadCaseFeed(&ctx, fed::ReadCaseFeedRequest(), &page).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

// Two levels (Đà Nẵng 2025): the city follows its communes directly; a case
// handed between two communes is held once, with its current owner. The
// wards compact their feeds every second; the city, its data lost, starts
// again from nothing and bootstraps from the compacted feeds.
TEST(OversightTest, TwoLevelsOfDaNang) {
  Federation f(g_receptiond, {"48", "48-1", "48-2"}, "2026-03-02",
               "deploy/topology/da-nang-2025.yaml",
               absl::StrCat(kFastFollow, "    feed_compact_seconds: 1\n"));
  f.StartAll();
  Client a(f.node("48-1"), "48-1");
  Client b(f.node("48-2"), "48-2");
  Client city(f.node("48"), "48");
  v1::CreateCaseRequest r = SampleCase(v1::CASE_KIND_PETITION, "d-1", "48-1",
                                       absl::CivilDay(2026, 3, 2), "Kiến nghị sửa đường");
  auto first = a.Call(a.cases(), &v1::CaseService::Stub::CreateCase, r);
  ASSERT_TRUE(first.ok()) << first.status();
  r = SampleCase(v1::CASE_KIND_PETITION, "d-2", "48-2", absl::CivilDay(2026, 3, 2),
                 "Kiến nghị lắp đèn");
  auto second = b.Call(b.cases(), &v1::CaseService::Stub::CreateCase, r);
  ASSERT_TRUE(second.ok()) << second.status();
  ASSERT_TRUE(WaitFor([&] { return Subtree(city).size() == 2; }, absl::Seconds(30)));
  EXPECT_EQ(Subtree(city).at(first->number()).replica().via_unit(), "48-1");

  auto handoff = a.Transfer(first->name(), "48-2", "d-t1");
  ASSERT_TRUE(handoff.ok()) << handoff.status();
  ASSERT_TRUE(WaitFor(
      [&] {
        auto s = Subtree(city);
        return s.size() == 2 && s.count(first->number()) &&
               s[first->number()].owner_unit() == "48-2" &&
               s[first->number()].replica().via_unit() == "48-2";
      },
      absl::Seconds(30)));
  EXPECT_EQ(Subtree(city, "48-1").size(), 1u);  // received at 48-1, now owned by 48-2

  // The transfer left superseded positions in 48-1's feed: compacted away.
  ASSERT_TRUE(WaitFor(
      [&] {
        return absl::StrContains(ReadFile(f.node("48-1").log_path()), "event=feed_compacted");
      },
      absl::Seconds(30)));
  ASSERT_EQ(f.node("48").Stop(), 0);
  std::filesystem::remove_all(absl::StrCat(f.dir(), "/48/data"));
  ASSERT_TRUE(f.node("48").Start().ok());
  city.Reconnect();
  ASSERT_TRUE(WaitFor(
      [&] {
        auto s = Subtree(city);
        return s.size() == 2 && s.count(first->number()) &&
               s[first->number()].owner_unit() == "48-2" && s.count(second->number());
      },
      absl::Seconds(30)))
      << Subtree(city).size();
}

std::string Names(const google::protobuf::RepeatedPtrField<std::string>& names) {
  return absl::StrJoin(names, ", ");
}

// Province-wide duplicate detection (Quảng Nam 2024): the same citizen
// complains of the same matter at two communes of two districts (502-1
// through district 502's node, 503-1 followed directly); the second
// commune's case is checked against the province's whole subtree through
// hashes under the province's matching key. A check asked while the province
// is down waits in the commune's outbox and is answered when it is back.
// The citizen's ID reaches the province in no form but the hash.
TEST(OversightTest, ProvinceWideDuplicatesThroughTheKeyedHash) {
  TempDir keys;
  const std::string key_file = keys.Join("matching.key");
  WriteFile(key_file, "6d61746368696e67206b657920666f72207465737473206f6e6c792121212121\n");
  ASSERT_EQ(chmod(key_file.c_str(), 0600), 0);
  Federation f(g_receptiond, {"49", "502", "502-1", "503-1"}, "2025-06-16",
               "deploy/topology/quang-nam-2024.yaml",
               absl::StrCat(kFastFollow, "duplicates:\n  matching_key_file: ", key_file, "\n"));
  f.StartAll();
  Client a(f.node("502-1"), "502-1");
  Client b(f.node("503-1"), "503-1");
  Client city(f.node("49"), "49");
  constexpr char kCitizen[] = "049302001122";
  const v1::Case first = CreateAt(a, v1::CASE_KIND_COMPLAINT, "p-1", "502-1");
  ASSERT_TRUE(WaitFor([&] { return Subtree(city).count(first.number()) == 1; }, absl::Seconds(30)));

  auto check_of = [&](const std::string& name) {
    auto c = b.Get(name);
    return c.ok() ? c->subtree_check() : v1::SubtreeDuplicateCheck();
  };
  auto done = [&](const std::string& name) {
    return WaitFor([&] { return check_of(name).state() == v1::SubtreeDuplicateCheck::STATE_DONE; },
                   absl::Seconds(30));
  };
  const v1::Case second = CreateAt(b, v1::CASE_KIND_COMPLAINT, "p-2", "503-1");
  EXPECT_EQ(second.subtree_check().state(), v1::SubtreeDuplicateCheck::STATE_PENDING);
  EXPECT_EQ(second.subtree_check().checked_unit(), "49");
  ASSERT_TRUE(done(second.name())) << check_of(second.name()).DebugString();
  EXPECT_EQ(Names(check_of(second.name()).possible_duplicates()), first.name());
  // Another citizen, the same words: nothing.
  const v1::Case other =
      CreateAt(b, v1::CASE_KIND_COMPLAINT, "p-3", "503-1", "Võ Văn Khác", "049302009999");
  ASSERT_TRUE(done(other.name()));
  EXPECT_EQ(check_of(other.name()).possible_duplicates_size(), 0);
  // A named denouncer is never checked, hashed or sent.
  const v1::Case denunciation = CreateAt(b, v1::CASE_KIND_DENUNCIATION, "p-4", "503-1");
  ASSERT_TRUE(denunciation.identity_protected());
  EXPECT_EQ(denunciation.subtree_check().state(), v1::SubtreeDuplicateCheck::STATE_UNSPECIFIED);

  // The province down: the commune registers at once, the check waits, and is
  // answered once the province is back.
  ASSERT_EQ(f.node("49").Stop(), 0);
  // So far the citizens' IDs are in the communes' stores, never in the
  // province's files (its store, its log).
  EXPECT_EQ(absl::StrJoin(FilesContaining(absl::StrCat(f.dir(), "/49"), kCitizen), ", "), "");
  EXPECT_EQ(absl::StrJoin(FilesContaining(absl::StrCat(f.dir(), "/49"), "049302009999"), ", "), "");
  const v1::Case third = CreateAt(b, v1::CASE_KIND_COMPLAINT, "p-5", "503-1");
  EXPECT_EQ(third.subtree_check().state(), v1::SubtreeDuplicateCheck::STATE_PENDING);
  EXPECT_EQ(Names(third.possible_duplicates()), second.name());
  ASSERT_TRUE(f.node("49").Start().ok());
  ASSERT_TRUE(done(third.name())) << check_of(third.name()).DebugString();
  // The commune's own earlier case is a local repeat; the province adds 502-1's.
  EXPECT_EQ(Names(check_of(third.name()).possible_duplicates()), first.name());

  // Handed to the province, the case is checked again there, by the node
  // that now owns it, against the cases of the whole subtree but itself.
  auto handoff = b.Transfer(third.name(), "49", "p-t");
  ASSERT_TRUE(handoff.ok()) << handoff.status();
  ASSERT_TRUE(WaitFor([&] { return b.Delivered(handoff->name()); }, absl::Seconds(30)));
  auto owned = city.Get(third.name());
  ASSERT_TRUE(owned.ok()) << owned.status();
  EXPECT_EQ(owned->owner_unit(), "49");
  EXPECT_EQ(owned->subtree_check().state(), v1::SubtreeDuplicateCheck::STATE_DONE);
  EXPECT_EQ(owned->subtree_check().checked_unit(), "49");
  EXPECT_EQ(Names(owned->subtree_check().possible_duplicates()),
            absl::StrCat(first.name(), ", ", second.name()));

  // The province's own intake is checked against its subtree at once.
  const v1::Case at_city = CreateAt(city, v1::CASE_KIND_COMPLAINT, "p-6", "49");
  EXPECT_EQ(at_city.subtree_check().state(), v1::SubtreeDuplicateCheck::STATE_DONE);
  EXPECT_EQ(at_city.subtree_check().checked_unit(), "49");
  ASSERT_TRUE(WaitFor([&] { return Subtree(city).size() == 6; }, absl::Seconds(30)));
}

// A second-time complaint at one commune names a first-time complaint of
// another: the commune asks the province (which follows both) over mTLS,
// marks the link unverified meanwhile, and judges the province's facts: a
// decided first complaint is verified and the filing limit counts from its
// decision; a number the province's subtree never issued is contradicted,
// and AcceptCase refuses it.
TEST(OversightTest, SecondTimeComplaintLinksThroughTheFederation) {
  Federation f(g_receptiond, {"49", "502", "502-1", "503-1"}, "2025-06-16",
               "deploy/topology/quang-nam-2024.yaml", kFastFollow);
  f.StartAll();
  Client a(f.node("502-1"), "502-1");
  Client b(f.node("503-1"), "503-1");
  Client city(f.node("49"), "49");
  const v1::Case first = CreateAt(a, v1::CASE_KIND_COMPLAINT, "l-1", "502-1");
  auto step = [&](auto method, auto request, const std::string& role) {
    request.set_name(first.name());
    auto out = a.Call(a.cases(), method, request, role);
    EXPECT_TRUE(out.ok()) << out.status();
  };
  v1::ClassifyCaseRequest classify;
  classify.set_within_competence(true);
  step(&v1::CaseService::Stub::ClassifyCase, classify, "officer");
  v1::AcceptCaseRequest accept;
  accept.set_notice_reference("TL-3/2025");
  step(&v1::CaseService::Stub::AcceptCase, accept, "officer");
  step(&v1::CaseService::Stub::StartCaseVerification, v1::StartCaseVerificationRequest(),
       "inspector");
  v1::DecideCaseRequest decide;
  decide.set_outcome(v1::OUTCOME_COMPLAINT_WRONG);
  decide.set_decision_reference("QĐ-12/UBND");
  step(&v1::CaseService::Stub::DecideCase, decide, "head");
  // The province follows the decision before anyone asks it.
  ASSERT_TRUE(
      WaitFor([&] { return Subtree(city)[first.number()].state() == v1::CASE_STATE_DECIDED; },
              absl::Seconds(30)));

  auto second_time = [&](const std::string& id, const std::string& previous) {
    v1::CreateCaseRequest r = SampleCase(v1::CASE_KIND_COMPLAINT, id, "503-1",
                                         absl::CivilDay(2025, 6, 16), "Khiếu nại lần hai");
    r.mutable_case_()->set_complaint_round(v1::COMPLAINT_ROUND_SECOND);
    r.mutable_case_()->set_previous_case(previous);
    r.mutable_case_()->clear_filing_limit();
    auto out = b.Call(b.cases(), &v1::CaseService::Stub::CreateCase, r);
    EXPECT_TRUE(out.ok()) << id << ": " << out.status();
    return out.ok() ? *out : v1::Case();
  };
  auto link_of = [&](const std::string& name) {
    auto c = b.Get(name);
    return c.ok() ? c->previous_case_check() : v1::PreviousCaseCheck();
  };
  auto settled = [&](const std::string& name) {
    return WaitFor([&] { return !link_of(name).pending(); }, absl::Seconds(30));
  };
  const v1::Case ok = second_time("l-2", first.name());
  EXPECT_EQ(ok.previous_case_check().state(), v1::PreviousCaseCheck::STATE_UNVERIFIED);
  EXPECT_EQ(ok.previous_case_check().checked_unit(), "49");
  ASSERT_TRUE(settled(ok.name())) << link_of(ok.name()).DebugString();
  auto verified = b.Get(ok.name());
  ASSERT_TRUE(verified.ok());
  EXPECT_EQ(verified->previous_case_check().state(), v1::PreviousCaseCheck::STATE_VERIFIED)
      << verified->previous_case_check().DebugString();
  EXPECT_EQ(verified->previous_case_check().decision_reference(), "QĐ-12/UBND");
  EXPECT_EQ(FormatDate(verified->filing_limit().start_date()), "2025-06-16");
  EXPECT_TRUE(verified->filing_limit().met());
  EXPECT_TRUE(absl::StrContains(verified->filing_limit().counted_from(), "QĐ-12/UBND"));

  const v1::Case wrong = second_time("l-3", "cases/502-1-2025-000999");
  ASSERT_TRUE(settled(wrong.name())) << link_of(wrong.name()).DebugString();
  EXPECT_EQ(link_of(wrong.name()).state(), v1::PreviousCaseCheck::STATE_CONTRADICTED);
  classify.set_name(wrong.name());
  ASSERT_TRUE(b.Call(b.cases(), &v1::CaseService::Stub::ClassifyCase, classify).ok());
  accept.set_name(wrong.name());
  auto refused = b.Call(b.cases(), &v1::CaseService::Stub::AcceptCase, accept);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition) << refused.status();
  EXPECT_TRUE(absl::StrContains(refused.status().message(), "is not held by unit 49"))
      << refused.status();
}

// The inner text of the first element `<tag ... class="cls">` after the
// row `<tr data-unit="unit"` in a table `table_id` of the DOM; "" if none.
std::string CellOf(const std::string& dom, const std::string& table_id, const std::string& unit,
                   const std::string& cls) {
  const size_t table = dom.find(absl::StrCat("id=\"", table_id, "\""));
  if (table == std::string::npos) return "";
  const size_t row = dom.find(absl::StrCat("<tr data-unit=\"", unit, "\""), table);
  if (row == std::string::npos) return "";
  const size_t row_end = dom.find("</tr>", row);
  const size_t cell = dom.find(absl::StrCat("class=\"", cls), row);
  if (cell == std::string::npos || cell > row_end) return "";
  const size_t open = dom.find('>', cell) + 1;
  return dom.substr(open, dom.find('<', open) - open);
}

// The oversight page in a real headless browser (Debian's chromium) against
// a two-level federation: the subtree's counts and feeds, the sessions and
// the report are in the DOM; a screenshot is kept beside the test.
TEST(OversightTest, TheOversightPageInAHeadlessBrowser) {
  const std::string chromium = Shell("command -v chromium || true");
  ASSERT_FALSE(chromium.empty()) << "chromium is not installed (tools/dev/setup.sh installs it)";
  Federation f(g_receptiond, {"48", "48-1", "48-2"}, "2026-03-02",
               "deploy/topology/da-nang-2025.yaml", kFastFollow);
  f.StartAll();
  Client a(f.node("48-1"), "48-1");
  Client b(f.node("48-2"), "48-2");
  Client city(f.node("48"), "48");
  for (auto [client, id] : {std::pair{&a, "p-1"}, {&a, "p-2"}, {&b, "p-3"}}) {
    v1::CreateCaseRequest r = SampleCase(v1::CASE_KIND_PETITION, id, "48-1",
                                         absl::CivilDay(2026, 3, 2), "Kiến nghị sửa chữa cầu");
    ASSERT_TRUE(client->Call(client->cases(), &v1::CaseService::Stub::CreateCase, r).ok());
  }
  ASSERT_TRUE(WaitFor([&] { return Subtree(city).size() == 3; }, absl::Seconds(30)));
  namespace sv = scheduling::v1;
  auto sched = sv::SchedulingService::NewStub(f.node("48").NewChannel());
  sv::CreateSessionRequest session;
  session.mutable_session()->set_kind(sv::SESSION_KIND_PERIODIC);
  *session.mutable_session()->mutable_date() = ToProtoDate(absl::CivilDay(2026, 3, 4));
  session.mutable_session()->set_start("07:30");
  session.mutable_session()->set_end("11:00");
  session.mutable_session()->set_presiding("Chủ tịch UBND thành phố");
  auto created = CallAs(sched.get(), &sv::SchedulingService::Stub::CreateSession, session,
                        "officer", "48", "tester");
  ASSERT_TRUE(created.ok()) << created.status();

  const std::string base =
      absl::StrCat("http://127.0.0.1:", f.node("48").admin_port(), "/oversight");
  // No token, and a token of a unit below: refused.
  EXPECT_TRUE(absl::StrContains(HttpRequest(base), "bearer token is required"));
  EXPECT_TRUE(absl::StrContains(
      HttpRequest(absl::StrCat(base, "?access_token=", TestToken("viewer", "48-1", "x"))),
      "for people of that unit or of a unit above it"));

  const std::string url =
      absl::StrCat(base, "?month=2026-03&access_token=", TestToken("inspector", "48", "tra"));
  std::string dom;
  ASSERT_TRUE(WaitFor(
      [&] {
        dom =
            Shell(absl::StrCat("timeout 90 chromium --headless --no-sandbox --disable-gpu "
                               "--disable-dev-shm-usage --dump-dom '",
                               url, "' 2>/dev/null"));
        // The feeds are current once both children show reachable.
        return CellOf(dom, "subtree", "48-1", "feed") == "reachable" &&
               CellOf(dom, "subtree", "48-2", "feed") == "reachable";
      },
      absl::Seconds(60)))
      << dom.substr(0, 3000);
  EXPECT_TRUE(absl::StrContains(dom, "<h1>Giám sát tiếp công dân: Thành phố Đà Nẵng</h1>"))
      << dom.substr(0, 500);
  EXPECT_EQ(CellOf(dom, "report", "48-1", "received"), "2");
  EXPECT_EQ(CellOf(dom, "report", "48-2", "received"), "1");
  EXPECT_EQ(CellOf(dom, "report", "total", "received"), "3");
  EXPECT_EQ(CellOf(dom, "subtree", "48-1", "lag"), "0");
  EXPECT_EQ(CellOf(dom, "subtree", "48", "overdue"), "0");
  EXPECT_TRUE(absl::StrContains(dom, absl::StrCat("data-session=\"", created->name(), "\"")));
  EXPECT_TRUE(absl::StrContains(dom, "1 session(s)"));
  // The sample petitioner's name is personal data: not on the page.
  EXPECT_FALSE(absl::StrContains(dom, "Trần Thị Mai"));
  // A screenshot, kept as the test's artefact (in the test's directory).
  const std::string shot = std::filesystem::absolute("oversight-page.png").string();
  Shell(
      absl::StrCat("timeout 90 chromium --headless --no-sandbox --disable-gpu "
                   "--disable-dev-shm-usage --window-size=1280,1400 --screenshot='",
                   shot, "' '", url, "' >/dev/null 2>&1"));
  EXPECT_TRUE(std::filesystem::exists(shot) && std::filesystem::file_size(shot) > 1000) << shot;
  printf("oversight page screenshot: %s\n", shot.c_str());
}

}  // namespace
}  // namespace reception::testing

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  if (argc < 3) {
    fprintf(stderr, "usage: oversight_test <receptiond> <receptionctl>\n");
    return 2;
  }
  reception::testing::g_receptiond = argv[1];
  reception::testing::g_receptionctl = argv[2];
  return RUN_ALL_TESTS();
}
