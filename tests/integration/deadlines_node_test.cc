// Statutory clocks in the real receptiond, with its date injected through
// --clock_file: a denunciation accepted, extended twice and decided on time;
// a complaint that goes overdue as the date advances and shows up in the
// overdue list, in receptionctl's overdue view and in the metrics.
#include <stdio.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "reception/cases/v1/case_service.grpc.pb.h"
#include "services/common/civil_date.h"
#include "services/common/clock.h"
#include "services/common/test_support.h"
#include "tests/integration/node_process.h"

namespace reception::testing {
namespace {

namespace v1 = cases::v1;

std::string g_receptiond;
std::string g_receptionctl;

class DeadlinesNodeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SetToday("2026-03-02");
    NodeProcess::Options o;
    o.binary = g_receptiond;
    o.work_dir = dir_.path();
    o.extra_args = {"--clock_file", clock_file()};
    node_ = std::make_unique<NodeProcess>(o);
    ASSERT_TRUE(node_->Start().ok()) << ReadFile(node_->log_path());
    stub_ = v1::CaseService::NewStub(node_->NewChannel());
  }
  std::string clock_file() { return dir_.Join("today"); }
  void SetToday(const std::string& day) {
    WriteFile(clock_file() + ".tmp", day + "\n");
    ASSERT_EQ(rename((clock_file() + ".tmp").c_str(), clock_file().c_str()), 0);
  }

  template <typename Req>
  absl::StatusOr<v1::Case> Mutate(grpc::Status (v1::CaseService::Stub::*m)(grpc::ClientContext*,
                                                                           const Req&, v1::Case*),
                                  const Req& req, const std::string& role = "officer") {
    grpc::ClientContext ctx;
    AddPrincipal(&ctx, role, "48");
    v1::Case out;
    grpc::Status s = ((*stub_).*m)(&ctx, req, &out);
    if (!s.ok())
      return absl::Status(static_cast<absl::StatusCode>(s.error_code()), s.error_message());
    return out;
  }
  v1::Case Create(v1::CaseKind kind, const std::string& request_id) {
    const v1::CreateCaseRequest r = SampleCase(
        kind, request_id, "48-1", absl::CivilDay(2026, 3, 2),
        kind == v1::CASE_KIND_COMPLAINT ? "Khiếu nại quyết định xử phạt" : "Tố cáo cán bộ");
    auto out = Mutate(&v1::CaseService::Stub::CreateCase, r);
    EXPECT_TRUE(out.ok()) << out.status();
    return out.ok() ? *out : v1::Case();
  }
  std::vector<std::string> Overdue() {
    v1::ListCasesRequest r;
    r.set_overdue(true);
    r.set_order_by("due_date");
    grpc::ClientContext ctx;
    AddPrincipal(&ctx, "viewer", "48");
    v1::ListCasesResponse resp;
    EXPECT_TRUE(stub_->ListCases(&ctx, r, &resp).ok());
    std::vector<std::string> out;
    for (const auto& c : resp.cases()) out.push_back(c.number());
    return out;
  }

  TempDir dir_;
  std::unique_ptr<NodeProcess> node_;
  std::unique_ptr<v1::CaseService::Stub> stub_;
};

TEST_F(DeadlinesNodeTest, DenunciationExtendedTwiceDecidedOnTimeComplaintGoesOverdue) {
  const v1::Case complaint = Create(v1::CASE_KIND_COMPLAINT, "c-1");
  const v1::Case denunciation = Create(v1::CASE_KIND_DENUNCIATION, "d-1");
  ASSERT_FALSE(complaint.number().empty());
  EXPECT_EQ(FormatDate(complaint.due_date()), "2026-03-12");  // 10 days to accept
  const std::string overdue_metric = "reception_cases_overdue{kind=\"complaint\",step=\"accept\"}";

  // The denunciation: classified very complex, accepted 5 March.
  SetToday("2026-03-05");
  v1::ClassifyCaseRequest classify;
  classify.set_name(denunciation.name());
  classify.set_within_competence(true);
  classify.set_complexity(v1::COMPLEXITY_VERY_COMPLEX);
  ASSERT_TRUE(Mutate(&v1::CaseService::Stub::ClassifyCase, classify).ok());
  v1::AcceptCaseRequest accept;
  accept.set_name(denunciation.name());
  accept.set_notice_reference("TL-3/2026");
  auto accepted = Mutate(&v1::CaseService::Stub::AcceptCase, accept);
  ASSERT_TRUE(accepted.ok()) << accepted.status();
  EXPECT_EQ(FormatDate(accepted->due_date()), "2026-04-06");  // 30 days: Sat 4 Apr -> Mon
  v1::StartCaseVerificationRequest verify;
  verify.set_name(denunciation.name());
  ASSERT_TRUE(Mutate(&v1::CaseService::Stub::StartCaseVerification, verify, "inspector").ok());

  // Nothing is overdue on 11 March; the complaint is on 13 March.
  SetToday("2026-03-11");
  EXPECT_TRUE(Overdue().empty());
  EXPECT_TRUE(absl::StrContains(ScrapeMetrics(node_->admin_port()), overdue_metric + " 0"));
  SetToday("2026-03-13");
  EXPECT_EQ(Overdue(), std::vector<std::string>{complaint.number()});
  EXPECT_TRUE(absl::StrContains(ScrapeMetrics(node_->admin_port()), overdue_metric + " 1"))
      << ScrapeMetrics(node_->admin_port());
  const std::string view =
      Shell(absl::StrCat(g_receptionctl, node_->CliFlags("viewer", "48"), "overdue"));
  EXPECT_TRUE(absl::StrContains(view, complaint.number())) << view;
  EXPECT_TRUE(absl::StrContains(view, "2026-03-12!")) << view;
  EXPECT_FALSE(absl::StrContains(view, denunciation.number())) << view;

  // Two extensions by written decision, then a third is refused.
  v1::ExtendCaseDeadlineRequest extend;
  extend.set_name(denunciation.name());
  extend.set_step(v1::DEADLINE_STEP_SETTLE);
  extend.set_decision_reference("QĐ-GH-1/2026");
  extend.set_days(30);
  SetToday("2026-04-01");
  auto e1 = Mutate(&v1::CaseService::Stub::ExtendCaseDeadline, extend, "head");
  ASSERT_TRUE(e1.ok()) << e1.status();
  EXPECT_EQ(FormatDate(e1->due_date()), "2026-05-04");
  SetToday("2026-04-29");
  extend.set_decision_reference("QĐ-GH-2/2026");
  auto e2 = Mutate(&v1::CaseService::Stub::ExtendCaseDeadline, extend, "head");
  ASSERT_TRUE(e2.ok()) << e2.status();
  EXPECT_EQ(FormatDate(e2->due_date()), "2026-06-03");
  extend.set_decision_reference("QĐ-GH-3/2026");
  auto e3 = Mutate(&v1::CaseService::Stub::ExtendCaseDeadline, extend, "head");
  EXPECT_EQ(e3.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(e3.status().message(), "at most 2 extension(s)")) << e3.status();

  // Decided on 2 June, inside the extended limit: met. The complaint is
  // still overdue.
  SetToday("2026-06-02");
  v1::DecideCaseRequest decide;
  decide.set_name(denunciation.name());
  decide.set_outcome(v1::OUTCOME_DENUNCIATION_FOUNDED);
  decide.set_decision_reference("KL-7/2026");
  auto decided = Mutate(&v1::CaseService::Stub::DecideCase, decide, "head");
  ASSERT_TRUE(decided.ok()) << decided.status();
  bool met = false;
  for (const auto& k : decided->clocks()) {
    if (k.step() == v1::DEADLINE_STEP_SETTLE) {
      met = k.state() == v1::CLOCK_STATE_MET && k.extensions_size() == 2;
    }
  }
  EXPECT_TRUE(met) << decided->DebugString();
  EXPECT_EQ(Overdue(), std::vector<std::string>{complaint.number()});

  // The clocks and the overdue state survive a restart (the metric is
  // rebuilt from the store).
  ASSERT_EQ(node_->Stop(), 0);
  ASSERT_TRUE(node_->Start().ok()) << ReadFile(node_->log_path());
  stub_ = v1::CaseService::NewStub(node_->NewChannel());
  EXPECT_EQ(Overdue(), std::vector<std::string>{complaint.number()});
  EXPECT_TRUE(absl::StrContains(ScrapeMetrics(node_->admin_port()), overdue_metric + " 1"));

  // The preview through the CLI names the rules.
  const std::string preview =
      Shell(absl::StrCat(g_receptionctl, node_->CliFlags("officer", "48"),
                         "deadlines preview --kind denunciation --received 2026-03-02 "
                         "--complexity very_complex"));
  EXPECT_TRUE(absl::StrContains(preview, "vn-2020-12/denunciation-settle")) << preview;
  EXPECT_TRUE(absl::StrContains(preview, "2026-06-09")) << preview;  // latest, all extensions used
}

// Today is 2026-11-28 and the Government has not published 2027: the node
// counts through it on the statutory days and marks every such date
// provisional. When the published 2027 replaces the provisional one and the
// node restarts, exactly the clocks whose dates change move, each with an
// event in the case's history; the others are untouched.
TEST(ProvisionalCalendarNodeTest, DatesThrough2027AreProvisionalUntilThePublishedYearMovesThem) {
  TempDir dir;
  const std::string calendar = dir.Join("calendar.yaml");
  const std::string shipped = ReadFile(SourcePath("deploy/calendars/vn-2025-2026.yaml"));
  WriteFile(calendar, shipped);
  const std::string clock = dir.Join("today");
  auto set_today = [&](const std::string& day) {
    WriteFile(clock + ".tmp", day + "\n");
    ASSERT_EQ(rename((clock + ".tmp").c_str(), clock.c_str()), 0);
  };
  set_today("2026-11-28");
  NodeProcess::Options o;
  o.binary = g_receptiond;
  o.work_dir = dir.path();
  o.calendar_file = calendar;
  o.extra_args = {"--clock_file", clock};
  NodeProcess node(o);
  ASSERT_TRUE(node.Start().ok()) << ReadFile(node.log_path());
  auto stub = v1::CaseService::NewStub(node.NewChannel());
  auto call = [&](auto method, const auto& req, auto* resp, const std::string& role = "officer") {
    grpc::ClientContext ctx;
    AddPrincipal(&ctx, role, "48");
    grpc::Status s = ((*stub).*method)(&ctx, req, resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return s.ok();
  };
  auto clock_of = [](const v1::Case& c, v1::DeadlineStep step) {
    for (const auto& k : c.clocks()) {
      if (k.step() == step && k.state() == v1::CLOCK_STATE_RUNNING) return k;
    }
    return v1::DeadlineClock();
  };
  // Fewer than 90 days of 2026 are left: the node says so when it starts.
  EXPECT_TRUE(absl::StrContains(ReadFile(node.log_path()),
                                "event=calendar_publication_running_out "
                                "published_until=2026-12-31 days_left=33"))
      << ReadFile(node.log_path());

  // A complaint received today and accepted on 10 December: 30 days end on
  // Saturday 9 January 2027, so on Monday 11 January, provisionally.
  v1::Case complaint;
  ASSERT_TRUE(call(&v1::CaseService::Stub::CreateCase,
                   SampleCase(v1::CASE_KIND_COMPLAINT, "c-2027", "48-1",
                              absl::CivilDay(2026, 11, 28), "Khiếu nại quyết định thu hồi đất"),
                   &complaint));
  EXPECT_FALSE(clock_of(complaint, v1::DEADLINE_STEP_ACCEPT).has_provisional());  // 8 December 2026
  set_today("2026-12-10");
  v1::ClassifyCaseRequest classify;
  classify.set_name(complaint.name());
  classify.set_within_competence(true);
  ASSERT_TRUE(call(&v1::CaseService::Stub::ClassifyCase, classify, &complaint));
  v1::AcceptCaseRequest accept;
  accept.set_name(complaint.name());
  accept.set_notice_reference("TL-12/2026");
  ASSERT_TRUE(call(&v1::CaseService::Stub::AcceptCase, accept, &complaint));
  v1::DeadlineClock settle = clock_of(complaint, v1::DEADLINE_STEP_SETTLE);
  EXPECT_EQ(FormatDate(settle.due_date()), "2027-01-11");
  ASSERT_EQ(settle.provisional().years_size(), 1);
  EXPECT_EQ(settle.provisional().years(0), 2027);
  EXPECT_TRUE(absl::StrContains(settle.provisional().reason(), "Labour Code 2019"))
      << settle.provisional().reason();

  // A petition received on Friday 29 January 2027: ten working days across
  // the statutory Tết (Fri 5, Mon 8 - Thu 11 February) end on 19 February.
  set_today("2027-01-29");
  v1::Case petition;
  ASSERT_TRUE(call(&v1::CaseService::Stub::CreateCase,
                   SampleCase(v1::CASE_KIND_PETITION, "p-2027", "48-1", absl::CivilDay(2027, 1, 29),
                              "Kiến nghị sửa đường liên xã"),
                   &petition));
  EXPECT_EQ(FormatDate(clock_of(petition, v1::DEADLINE_STEP_HANDLE_LETTER).due_date()),
            "2027-02-19");
  EXPECT_TRUE(clock_of(petition, v1::DEADLINE_STEP_HANDLE_LETTER).has_provisional());

  // The preview says so too, step by step: acceptance (10 calendar days from
  // 20 December) ends in 2026; letter handling and settlement run into 2027.
  v1::PreviewDeadlinesRequest preview;
  preview.set_kind(v1::CASE_KIND_COMPLAINT);
  preview.set_complaint_round(v1::COMPLAINT_ROUND_FIRST);
  *preview.mutable_received_date() = ToProtoDate(absl::CivilDay(2026, 12, 20));
  v1::PreviewDeadlinesResponse previewed;
  ASSERT_TRUE(call(&v1::CaseService::Stub::PreviewDeadlines, preview, &previewed));
  ASSERT_GT(previewed.deadlines_size(), 0);
  for (const auto& p : previewed.deadlines()) {
    EXPECT_TRUE(p.problem().empty()) << p.problem();
    EXPECT_EQ(p.has_provisional(), p.step() != v1::DEADLINE_STEP_ACCEPT)
        << v1::DeadlineStep_Name(p.step());
  }

  // The coverage gauges: published to the end of 2026, provisional beyond.
  const std::string metrics = ScrapeMetrics(node.admin_port());
  const int64_t end_2026 =
      absl::ToUnixSeconds(absl::FromCivil(absl::CivilSecond(2027, 1, 1), VietnamTimeZone()));
  EXPECT_TRUE(
      absl::StrContains(metrics, absl::StrCat("reception_calendar_published_until ", end_2026)))
      << metrics;

  auto history = [&](const v1::Case& c) {
    v1::GetCaseHistoryRequest r;
    r.set_name(c.name());
    r.set_page_size(100);
    v1::GetCaseHistoryResponse resp;
    call(&v1::CaseService::Stub::GetCaseHistory, r, &resp, "viewer");
    return resp;
  };
  const int complaint_events = history(complaint).events_size();
  const int petition_events = history(petition).events_size();

  // The Government publishes 2027: Tết from Thursday 4 to Friday 12
  // February, made up on Saturday 20 February. The node restarts on it.
  ASSERT_EQ(node.Stop(), 0);
  const size_t cut = shipped.find("  # Not yet published (2026-11-28)");
  ASSERT_NE(cut, std::string::npos);
  // The published year as a `years:` list entry (tests/data).
  std::string published = "  - ";
  for (const auto& line :
       absl::StrSplit(ReadFile(SourcePath("tests/data/published-2027-example.yaml")), '\n')) {
    if (line.empty() || line[0] == '#') continue;
    absl::StrAppend(&published, published.size() > 4 ? "    " : "", line, "\n");
  }
  WriteFile(calendar, shipped.substr(0, cut) + published);
  ASSERT_TRUE(node.Start().ok()) << ReadFile(node.log_path());
  stub = v1::CaseService::NewStub(node.NewChannel());
  EXPECT_TRUE(absl::StrContains(ReadFile(node.log_path()), "event=deadlines_recomputed cases=1"))
      << ReadFile(node.log_path());

  v1::GetCaseRequest get;
  get.set_name(petition.name());
  ASSERT_TRUE(call(&v1::CaseService::Stub::GetCase, get, &petition, "viewer"));
  // Feb 1-3, then Mon 15 - Fri 19, Saturday 20 (made up) and Monday 22.
  EXPECT_EQ(FormatDate(clock_of(petition, v1::DEADLINE_STEP_HANDLE_LETTER).due_date()),
            "2027-02-22");
  EXPECT_FALSE(clock_of(petition, v1::DEADLINE_STEP_HANDLE_LETTER).has_provisional());
  const auto moved = history(petition);
  ASSERT_EQ(moved.events_size(), petition_events + 1);
  const auto& event = moved.events(moved.events_size() - 1);
  EXPECT_EQ(event.action(), "RecomputeDeadlines");
  EXPECT_TRUE(absl::StrContains(event.summary(), "handle_letter: 2027-02-19 -> 2027-02-22"))
      << event.summary();
  v1::VerifyCaseHistoryRequest verify;
  verify.set_name(petition.name());
  v1::VerifyCaseHistoryResponse verified;
  ASSERT_TRUE(call(&v1::CaseService::Stub::VerifyCaseHistory, verify, &verified, "viewer"));
  EXPECT_TRUE(verified.valid()) << verified.problem();

  // The complaint's date does not change: no event, no longer provisional.
  get.set_name(complaint.name());
  ASSERT_TRUE(call(&v1::CaseService::Stub::GetCase, get, &complaint, "viewer"));
  EXPECT_EQ(FormatDate(clock_of(complaint, v1::DEADLINE_STEP_SETTLE).due_date()), "2027-01-11");
  EXPECT_FALSE(clock_of(complaint, v1::DEADLINE_STEP_SETTLE).has_provisional());
  EXPECT_EQ(history(complaint).events_size(), complaint_events);

  // A second start changes nothing more.
  ASSERT_EQ(node.Stop(), 0);
  ASSERT_TRUE(node.Start().ok()) << ReadFile(node.log_path());
  stub = v1::CaseService::NewStub(node.NewChannel());
  EXPECT_EQ(history(petition).events_size(), petition_events + 1);
}

}  // namespace
}  // namespace reception::testing

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  if (argc < 3) {
    fprintf(stderr, "usage: deadlines_node_test RECEPTIOND RECEPTIONCTL\n");
    return 2;
  }
  reception::testing::g_receptiond = argv[1];
  reception::testing::g_receptionctl = argv[2];
  return RUN_ALL_TESTS();
}
