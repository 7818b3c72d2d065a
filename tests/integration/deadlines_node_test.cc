// Statutory clocks in the real receptiond, with its date injected through
// --clock_file: a denunciation accepted, extended twice and decided on time;
// a complaint that goes overdue as the date advances and shows up in the
// overdue list, in receptionctl's overdue view and in the metrics.
#include <stdio.h>


#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "reception/cases/v1/case_service.grpc.pb.h"
#include "services/common/civil_date.h"
#include "services/common/test_support.h"
#include "tests/integration/node_process.h"

namespace reception::testing {
namespace {

namespace v1 = cases::v1;

std::string g_receptiond;
std::string g_receptionctl;


std::string RunCommand(const std::string& command) {
  std::string out;
  FILE* p = popen(command.c_str(), "r");
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  pclose(p);
  return out;
}

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
  absl::StatusOr<v1::Case> Mutate(grpc::Status (v1::CaseService::Stub::*m)(grpc::ClientContext*, const Req&, v1::Case*),
                                  const Req& req, const std::string& role = "officer") {
    grpc::ClientContext ctx;
    AddPrincipal(&ctx, role, "48");
    v1::Case out;
    grpc::Status s = ((*stub_).*m)(&ctx, req, &out);
    if (!s.ok()) return absl::Status(static_cast<absl::StatusCode>(s.error_code()), s.error_message());
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
  const std::string view = RunCommand(absl::StrCat(g_receptionctl, " --server ", node_->address(),
                                            " --unit 48 --role viewer overdue"));
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
  const std::string preview = RunCommand(absl::StrCat(
      g_receptionctl, " --server ", node_->address(),
      " --unit 48 deadlines preview --kind denunciation --received 2026-03-02 --complexity very_complex"));
  EXPECT_TRUE(absl::StrContains(preview, "vn-2020-12/denunciation-settle")) << preview;
  EXPECT_TRUE(absl::StrContains(preview, "2026-06-09")) << preview;  // latest, all extensions used
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
