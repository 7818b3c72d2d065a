// The real receptiond binary on loopback, driven through generated stubs and
// through receptionctl: crash recovery, graceful stop, start-up errors.
#include <stdio.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "grpcpp/generic/generic_stub.h"
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

std::string Today() { return FormatDate(SystemClock().Today()); }

v1::CreateCaseRequest NewComplaint(const std::string& request_id, int i) {
  v1::CreateCaseRequest r;
  r.set_request_id(request_id);
  auto* c = r.mutable_case_();
  c->set_kind(v1::CASE_KIND_COMPLAINT);
  c->set_complaint_round(v1::COMPLAINT_ROUND_FIRST);
  c->set_channel(v1::CHANNEL_IN_PERSON);
  auto* p = c->add_petitioners();
  p->set_full_name(absl::StrCat("Nguyễn Văn ", i));
  p->set_citizen_id(absl::StrFormat("0492%08d", i));
  c->mutable_respondent()->set_unit_code("48-1");
  c->set_content(absl::StrCat("Khiếu nại số ", i, ": ", std::string(600, 'x')));
  *c->mutable_received_date() = ToProtoDate(SystemClock().Today());
  return r;
}

// Runs `command` in a shell: its exit code and output (stdout and stderr).
std::pair<int, std::string> Shell(const std::string& command);

class CaseNodeTest : public ::testing::Test {
 protected:
  NodeProcess::Options Opts() {
    NodeProcess::Options o;
    o.binary = g_receptiond;
    o.work_dir = dir_.path();
    return o;
  }
  TempDir dir_;
};

// Clients create cases as fast as they can; the node is killed with SIGKILL
// mid-stream. After a restart every acknowledged case is there with a
// verifying history, and retrying every request id (acknowledged or not)
// creates nothing twice.
TEST_F(CaseNodeTest, KillNineDuringCreatesLosesNothingAcknowledged) {
  NodeProcess node(Opts());
  ASSERT_TRUE(node.Start().ok()) << ReadFile(node.log_path());
  std::mutex mu;
  std::map<std::string, std::string> acked;  // request id -> case number
  std::set<std::string> sent;
  std::atomic<bool> stop{false};
  std::atomic<int> next{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 8; ++t) {
    clients.emplace_back([&] {
      auto stub = v1::CaseService::NewStub(node.NewChannel());
      while (!stop.load()) {
        const int i = next.fetch_add(1);
        const std::string id = absl::StrCat("kill-", i);
        {
          std::lock_guard<std::mutex> lock(mu);
          sent.insert(id);
        }
        grpc::ClientContext ctx;
        AddPrincipal(&ctx, "officer", "48");
        ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
        v1::Case out;
        if (stub->CreateCase(&ctx, NewComplaint(id, i), &out).ok()) {
          std::lock_guard<std::mutex> lock(mu);
          acked[id] = out.number();
        }
        if (i % 7 == 0 && !stop.load()) {  // some transitions in the mix
          grpc::ClientContext c2;
          AddPrincipal(&c2, "officer", "48");
          c2.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
          v1::ClassifyCaseRequest cl;
          cl.set_name(out.name());
          cl.set_within_competence(true);
          v1::Case ignored;
          (void)stub->ClassifyCase(&c2, cl, &ignored);
        }
      }
    });
  }
  ASSERT_TRUE(WaitFor(
      [&] {
        std::lock_guard<std::mutex> lock(mu);
        return acked.size() >= 300;
      },
      absl::Seconds(120)));
  node.Kill();
  stop = true;
  for (auto& c : clients) c.join();
  std::map<std::string, std::string> acked_before_kill;
  {
    std::lock_guard<std::mutex> lock(mu);
    acked_before_kill = acked;
  }

  ASSERT_TRUE(node.Start().ok()) << ReadFile(node.log_path());
  auto stub = v1::CaseService::NewStub(node.NewChannel());
  for (const auto& [id, number] : acked_before_kill) {
    grpc::ClientContext ctx;
    AddPrincipal(&ctx, "viewer", "48");
    v1::VerifyCaseHistoryRequest vr;
    vr.set_name("cases/" + number);
    v1::VerifyCaseHistoryResponse verdict;
    auto s = stub->VerifyCaseHistory(&ctx, vr, &verdict);
    ASSERT_TRUE(s.ok()) << number << ": " << s.error_message();
    EXPECT_TRUE(verdict.valid()) << number << ": " << verdict.problem();
  }
  // Retry everything that was sent: acknowledged ones return their case,
  // the rest are created now, and nothing exists twice.
  std::set<std::string> numbers;
  for (const auto& id : sent) {
    grpc::ClientContext ctx;
    AddPrincipal(&ctx, "officer", "48");
    v1::Case out;
    const int i = std::stoi(id.substr(5));
    auto s = stub->CreateCase(&ctx, NewComplaint(id, i), &out);
    ASSERT_TRUE(s.ok()) << s.error_message();
    if (acked_before_kill.count(id)) {
      EXPECT_EQ(out.number(), acked_before_kill[id]) << id;
    }
    numbers.insert(out.number());
  }
  EXPECT_EQ(numbers.size(), sent.size());
  v1::ListCasesRequest list;
  list.set_page_size(500);
  size_t total = 0;
  for (;;) {
    grpc::ClientContext ctx;
    AddPrincipal(&ctx, "viewer", "48");
    v1::ListCasesResponse page;
    ASSERT_TRUE(stub->ListCases(&ctx, list, &page).ok());
    total += page.cases_size();
    if (page.next_page_token().empty()) break;
    list.set_page_token(page.next_page_token());
  }
  EXPECT_EQ(total, sent.size());
  EXPECT_EQ(node.Stop(), 0);
}

// An online backup while clients keep writing, restored into an empty data
// directory: every case acknowledged before the backup began is there with
// a verifying history, a retried request id returns its case, and the
// denouncer's identity opens with the restored keys.
TEST_F(CaseNodeTest, OnlineBackupUnderLoadRestoresEveryAcknowledgedCase) {
  NodeProcess::Options o = Opts();
  o.extra_config = absl::StrCat("backup:\n  dir: ", dir_.path(), "/backups\n");
  NodeProcess node(o);
  ASSERT_TRUE(node.Start().ok()) << ReadFile(node.log_path());
  auto stub = v1::CaseService::NewStub(node.NewChannel());
  auto call = [&](auto method, const auto& req, auto* out, const std::string& role) {
    grpc::ClientContext ctx;
    AddPrincipal(&ctx, role, "48");
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    return ((*stub).*method)(&ctx, req, out);
  };
  v1::CreateCaseRequest denunciation = NewComplaint("backup-denunciation", 0);
  denunciation.mutable_case_()->set_kind(v1::CASE_KIND_DENUNCIATION);
  denunciation.mutable_case_()->clear_complaint_round();
  v1::Case denounced;
  ASSERT_TRUE(call(&v1::CaseService::Stub::CreateCase, denunciation, &denounced, "officer").ok());
  ASSERT_TRUE(denounced.identity_protected());

  std::mutex mu;
  std::map<std::string, std::string> acked;  // request id -> case number
  std::atomic<bool> stop{false};
  std::atomic<int> next{1};
  std::vector<std::thread> clients;
  for (int t = 0; t < 4; ++t) {
    clients.emplace_back([&] {
      auto own = v1::CaseService::NewStub(node.NewChannel());
      while (!stop.load()) {
        const int i = next.fetch_add(1);
        const std::string id = absl::StrCat("backup-", i);
        grpc::ClientContext ctx;
        AddPrincipal(&ctx, "officer", "48");
        ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
        v1::Case out;
        if (own->CreateCase(&ctx, NewComplaint(id, i), &out).ok()) {
          std::lock_guard<std::mutex> lock(mu);
          acked[id] = out.number();
        }
      }
    });
  }
  ASSERT_TRUE(WaitFor(
      [&] {
        std::lock_guard<std::mutex> lock(mu);
        return acked.size() >= 100;
      },
      absl::Seconds(60)));
  std::map<std::string, std::string> before;
  {
    std::lock_guard<std::mutex> lock(mu);
    before = acked;
  }
  // A viewer may not take one; the unit's head may, while writes go on.
  auto [rc, out] = Shell(g_receptionctl + node.CliFlags("viewer", "48") + "admin backup");
  EXPECT_EQ(rc, 4) << out;
  std::tie(rc, out) =
      Shell(g_receptionctl + node.CliFlags("head", "48") + "admin backup --label under-load");
  ASSERT_EQ(rc, 0) << out;
  stop = true;
  for (auto& c : clients) c.join();
  EXPECT_NE(out.find("store"), std::string::npos) << out;
  EXPECT_NE(out.find("case at sequence"), std::string::npos) << out;
  const size_t at = out.find(dir_.path() + "/backups/");
  ASSERT_NE(at, std::string::npos) << out;
  const std::string backup = out.substr(at, out.find('\n', at) - at);
  EXPECT_TRUE(absl::EndsWith(backup, "-under-load")) << backup;
  EXPECT_EQ(node.Stop(), 0);

  // Restore into an empty data directory (the old one moved aside).
  const std::string data = dir_.path() + "/data";
  ASSERT_EQ(rename(data.c_str(), (data + ".lost").c_str()), 0);
  const std::string restore =
      absl::StrCat(g_receptionctl, " admin restore --config ", node.config_path(), " --backup ");
  std::tie(rc, out) = Shell(restore + dir_.path());
  EXPECT_EQ(rc, 6) << out;  // not a backup
  EXPECT_NE(out.find("has no MANIFEST.textproto"), std::string::npos) << out;
  std::tie(rc, out) = Shell(restore + backup);
  ASSERT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("restored store case"), std::string::npos) << out;
  std::tie(rc, out) = Shell(restore + backup);
  EXPECT_EQ(rc, 6) << out;  // never over a store that is there
  EXPECT_NE(out.find("already holds store"), std::string::npos) << out;

  ASSERT_TRUE(node.Start().ok()) << ReadFile(node.log_path());
  stub = v1::CaseService::NewStub(node.NewChannel());
  for (const auto& [id, number] : before) {
    v1::VerifyCaseHistoryRequest vr;
    vr.set_name("cases/" + number);
    v1::VerifyCaseHistoryResponse verdict;
    auto s = call(&v1::CaseService::Stub::VerifyCaseHistory, vr, &verdict, "viewer");
    ASSERT_TRUE(s.ok()) << number << ": " << s.error_message();
    EXPECT_TRUE(verdict.valid()) << number << ": " << verdict.problem();
  }
  const auto& [first_id, first_number] = *before.begin();
  v1::Case again;
  ASSERT_TRUE(call(&v1::CaseService::Stub::CreateCase,
                   NewComplaint(first_id, std::stoi(first_id.substr(7))), &again, "officer")
                  .ok());
  EXPECT_EQ(again.number(), first_number);
  // Numbers issued after the backup (lost here, held by whoever heard of
  // them) are never issued again: the counter moved 100000 ahead.
  int64_t highest = 0;
  {
    std::lock_guard<std::mutex> lock(mu);
    for (const auto& [id, number] : acked) {
      highest = std::max<int64_t>(highest, std::stoll(number.substr(number.rfind('-') + 1)));
    }
  }
  v1::Case fresh;
  ASSERT_TRUE(call(&v1::CaseService::Stub::CreateCase, NewComplaint("after-restore", 999999),
                   &fresh, "officer")
                  .ok());
  const int64_t fresh_seq = std::stoll(fresh.number().substr(fresh.number().rfind('-') + 1));
  EXPECT_GT(fresh_seq, highest) << fresh.number();
  EXPECT_GT(fresh_seq, 100000) << fresh.number();
  EXPECT_NE(ReadFile(node.log_path()).find("event=restored_from_backup"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(data + "/RESTORED_FROM"));
  v1::RevealDenouncerIdentityRequest reveal;
  reveal.set_name(denounced.name());
  reveal.set_reason("Xác minh nội dung tố cáo sau khôi phục");
  v1::RevealDenouncerIdentityResponse revealed;
  auto s = call(&v1::CaseService::Stub::RevealDenouncerIdentity, reveal, &revealed, "inspector");
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(revealed.petitioners_size(), 1);
  EXPECT_EQ(revealed.petitioners(0).full_name(), "Nguyễn Văn 0");
  EXPECT_EQ(node.Stop(), 0);
}

TEST_F(CaseNodeTest, SigtermStopsGracefullyAndDataRemains) {
  NodeProcess node(Opts());
  ASSERT_TRUE(node.Start().ok()) << ReadFile(node.log_path());
  auto stub = v1::CaseService::NewStub(node.NewChannel());
  grpc::ClientContext ctx;
  AddPrincipal(&ctx, "officer", "48");
  v1::Case created;
  ASSERT_TRUE(stub->CreateCase(&ctx, NewComplaint("g", 1), &created).ok());
  EXPECT_EQ(node.Stop(), 0);
  EXPECT_NE(ReadFile(node.log_path()).find("event=stopped"), std::string::npos);
  ASSERT_TRUE(node.Start().ok());
  stub = v1::CaseService::NewStub(node.NewChannel());
  grpc::ClientContext ctx2;
  AddPrincipal(&ctx2, "viewer", "48");
  v1::GetCaseRequest get;
  get.set_name(created.name());
  v1::Case got;
  ASSERT_TRUE(stub->GetCase(&ctx2, get, &got).ok());
  EXPECT_EQ(got.etag(), created.etag());
}

TEST_F(CaseNodeTest, BadConfigurationStopsStartUpNamingKeyAndFile) {
  NodeProcess node(Opts());
  WriteFile(node.config_path(), ReadFile(node.config_path()) + "storage_policy: fast\n");
  auto s = node.Start(absl::Seconds(10));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find(node.config_path() + ":"), std::string::npos) << s;
  EXPECT_NE(s.message().find("storage_policy: unknown key"), std::string::npos) << s;
}

// Server reflection answers list_services with our service, so integrators
// can explore the API with grpcurl or grpc_cli. The request is encoded by
// hand (field 7, list_services, empty) to need no reflection stubs.
TEST_F(CaseNodeTest, ServerReflectionListsTheCaseService) {
  NodeProcess node(Opts());
  ASSERT_TRUE(node.Start().ok()) << ReadFile(node.log_path());
  grpc::GenericStub stub(node.NewChannel());
  grpc::CompletionQueue cq;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  auto call =
      stub.PrepareCall(&ctx, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", &cq);
  auto step = [&](intptr_t tag) {
    void* got;
    bool ok;
    return cq.Next(&got, &ok) && ok && reinterpret_cast<intptr_t>(got) == tag;
  };
  call->StartCall(reinterpret_cast<void*>(1));
  ASSERT_TRUE(step(1));
  const std::string request("\x3a\x00", 2);
  grpc::Slice slice(request);
  grpc::ByteBuffer out(&slice, 1);
  call->Write(out, reinterpret_cast<void*>(2));
  ASSERT_TRUE(step(2));
  grpc::ByteBuffer in;
  call->Read(&in, reinterpret_cast<void*>(3));
  ASSERT_TRUE(step(3));
  std::vector<grpc::Slice> slices;
  ASSERT_TRUE(in.Dump(&slices).ok());
  std::string response;
  for (const auto& sl : slices)
    response.append(reinterpret_cast<const char*>(sl.begin()), sl.size());
  EXPECT_NE(response.find("reception.cases.v1.CaseService"), std::string::npos);
  EXPECT_NE(response.find("grpc.health.v1.Health"), std::string::npos);
  call->WritesDone(reinterpret_cast<void*>(4));
  ASSERT_TRUE(step(4));
  grpc::Status status;
  call->Finish(&status, reinterpret_cast<void*>(5));
  ASSERT_TRUE(step(5));
  EXPECT_TRUE(status.ok()) << status.error_message();
  cq.Shutdown();
  void* tag;
  bool ok;
  while (cq.Next(&tag, &ok)) {
  }
}

std::pair<int, std::string> Shell(const std::string& command) {
  std::string out;
  FILE* p = popen((command + " 2>&1").c_str(), "r");
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  const int status = pclose(p);
  return {WEXITSTATUS(status), out};
}

TEST_F(CaseNodeTest, ReceptionctlWalksACaseAndReportsServerErrors) {
  NodeProcess node(Opts());
  ASSERT_TRUE(node.Start().ok()) << ReadFile(node.log_path());
  const std::string ctl = g_receptionctl + node.CliFlags("officer", "48");
  auto [rc, out] = Shell(ctl +
                         "create --kind complaint --round first --channel in_person "
                         "--petitioner 'Trần Thị Bích|049301002345|Hội An' --respondent-unit 48-13 "
                         "--content 'Khiếu nại quyết định xử phạt' --received " +
                         Today());
  ASSERT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("[received]"), std::string::npos) << out;
  const std::string number = out.substr(out.find("cases/") + 6, out.find(' ') - 6);
  std::tie(rc, out) = Shell(ctl + "accept " + number + " --notice TL-9");
  EXPECT_EQ(rc, 6);  // the state does not allow it
  EXPECT_NE(out.find("error: FAILED_PRECONDITION: AcceptCase is not allowed: the case is RECEIVED"),
            std::string::npos)
      << out;
  std::tie(rc, out) = Shell(ctl + "classify " + number + " --competent yes --complexity complex");
  EXPECT_EQ(rc, 0) << out;
  std::tie(rc, out) = Shell(ctl + "list --query 'tran thi bich' --json");
  EXPECT_EQ(rc, 0);
  EXPECT_NE(out.find("\"state\": \"CASE_STATE_CLASSIFIED\""), std::string::npos) << out;
  // A correction before acceptance, audited; a legal field is refused with
  // the option that would have named it.
  std::tie(rc, out) = Shell(ctl + "update " + number +
                            " --petitioner 'Trần Thị Bích|049301002345|12 Bạch Đằng, Hội An' "
                            "--reason 'Địa chỉ theo CCCD'");
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("12 Bạch Đằng, Hội An"), std::string::npos) << out;
  std::tie(rc, out) = Shell(ctl + "history " + number);
  EXPECT_NE(out.find("petitioners[0].address: \"Hội An\" -> \"12 Bạch Đằng, Hội An\""),
            std::string::npos)
      << out;
  std::tie(rc, out) = Shell(ctl + "update " + number + " --reason x");
  EXPECT_EQ(rc, 2) << out;  // nothing to correct: a usage error before any call
  std::tie(rc, out) = Shell(ctl + "verify " + number);
  EXPECT_EQ(rc, 0);
  EXPECT_NE(out.find("verifies: 3 events"), std::string::npos) << out;
  std::tie(rc, out) = Shell(ctl + "export --from " + Today() + " --to " + Today());
  EXPECT_EQ(rc, 0);
  EXPECT_NE(out.find("Trần Thị Bích, 12 Bạch Đằng, Hội An"), std::string::npos) << out;
  std::tie(rc, out) = Shell(ctl + "frobnicate");
  EXPECT_EQ(rc, 2);
  // The administrative units, as an integrator's picker reads them.
  std::tie(rc, out) = Shell(ctl + "units get 48-1");
  EXPECT_EQ(rc, 0) << out;
  EXPECT_EQ(out, "48-1\tPhường Hải Châu\tcommune\n");
  std::tie(rc, out) = Shell(ctl + "units get 48 --json");
  EXPECT_NE(out.find("\"federated\": true"), std::string::npos) << out;
  std::tie(rc, out) = Shell(ctl + "units list --parent 48 --level agency");
  EXPECT_EQ(rc, 0) << out;
  EXPECT_EQ(out, "48-SNNMT\tSở Nông nghiệp và Môi trường thành phố Đà Nẵng\tagency\n");
  std::tie(rc, out) = Shell(ctl + "units get 99");
  EXPECT_EQ(rc, 3) << out;
  std::tie(rc, out) = Shell(ctl + "health");
  EXPECT_EQ(rc, 0) << out;
  EXPECT_EQ(out, "SERVING\n");
  std::tie(rc, out) = Shell(ctl + "health --service reception.nonexistent.v1.Service");
  EXPECT_EQ(rc, 3) << out;  // NOT_FOUND: no such service
  // Exit codes say what happened.
  std::tie(rc, out) = Shell(ctl + "get 48-2026-999999");
  EXPECT_EQ(rc, 3) << out;
  EXPECT_NE(out.find("error: NOT_FOUND"), std::string::npos) << out;
  std::tie(rc, out) = Shell(g_receptionctl + node.CliFlags("viewer", "48") + "classify " + number +
                            " --competent yes");
  EXPECT_EQ(rc, 4) << out;
  std::tie(rc, out) = Shell(ctl +
                            "create --kind complaint --round first --channel in_person "
                            "--petitioner 'Trần Thị Bích|0493|Hội An' --content x --received " +
                            Today());
  EXPECT_EQ(rc, 5) << out;
  EXPECT_NE(out.find("citizen_id"), std::string::npos) << out;

  // A second-time complaint against a paper first decision: recorded by its
  // number and date, the filing limit counted from it.
  std::tie(rc, out) = Shell(ctl +
                            "create --kind complaint --round second --channel in_person "
                            "--petitioner 'Trần Thị Bích|049301002345|Hội An' "
                            "--respondent-unit 48-13 --content 'Khiếu nại lần hai' "
                            "--first-decision '125/QĐ-UBND|" +
                            Today() + "|Chủ tịch UBND phường' --received " + Today());
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("125/QĐ-UBND of " + Today() + " by Chủ tịch UBND phường (outside the system)"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("(counted from the first decision 125/QĐ-UBND"), std::string::npos) << out;
  std::tie(rc, out) = Shell(ctl +
                            "create --kind complaint --round second --channel in_person "
                            "--petitioner 'Trần Thị Bích|049301002345|Hội An' --content x "
                            "--first-decision '125/QĐ-UBND' --received " +
                            Today());
  EXPECT_EQ(rc, 2) << out;

  // Anonymous letters through the CLI: one that lacks what the law asks is
  // refused and archived; one that has it all goes on as information for
  // inspection.
  auto create_letter = [&](const std::string& facts) {
    return Shell(ctl + "create --kind denunciation --channel mail --anonymous " + facts +
                 " --respondent-unit 48-13 --respondent-official 'Nguyễn Văn Tư' "
                 "--content 'Tố cáo cán bộ địa chính nhận tiền' --received " +
                 Today());
  };
  std::tie(rc, out) = create_letter("--letter names-violator,evidence");
  ASSERT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("names the violator, with evidence, not verifiable"), std::string::npos)
      << out;
  const std::string letter = out.substr(out.find("cases/") + 6, out.find(' ') - 6);
  std::tie(rc, out) = Shell(ctl + "classify " + letter + " --competent yes");
  ASSERT_EQ(rc, 0) << out;
  std::tie(rc, out) = Shell(ctl + "accept " + letter + " --notice TL-10");
  EXPECT_EQ(rc, 6) << out;
  EXPECT_NE(out.find("anonymous_letter lacks verifiable"), std::string::npos) << out;
  std::tie(rc, out) = Shell(ctl + "archive " + letter + " --reason anonymous");
  EXPECT_EQ(rc, 0) << out;
  std::tie(rc, out) = create_letter("");
  ASSERT_EQ(rc, 0) << out;
  const std::string checkable = out.substr(out.find("cases/") + 6, out.find(' ') - 6);
  std::tie(rc, out) = Shell(ctl + "classify " + checkable + " --competent yes --letter frobs");
  EXPECT_EQ(rc, 2) << out;
  std::tie(rc, out) = Shell(ctl + "classify " + checkable +
                            " --competent yes --letter names-violator,evidence,verifiable "
                            "--evidence-note 'Bản sao phiếu thu'");
  ASSERT_EQ(rc, 0) << out;
  std::tie(rc, out) = Shell(ctl + "accept " + checkable + " --notice TL-11");
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("handled as information for inspection"), std::string::npos) << out;

  // A complaint found complex after acceptance: the head's decision.
  std::tie(rc, out) = Shell(ctl +
                            "create --kind complaint --round first --channel in_person "
                            "--petitioner 'Lê Văn Hải|049301002399|Hội An' --respondent-unit 48-13 "
                            "--content 'Khiếu nại quyết định thu hồi đất' --received " +
                            Today());
  ASSERT_EQ(rc, 0) << out;
  const std::string complaint = out.substr(out.find("cases/") + 6, out.find(' ') - 6);
  std::tie(rc, out) = Shell(ctl + "classify " + complaint + " --competent yes");
  ASSERT_EQ(rc, 0) << out;
  std::tie(rc, out) = Shell(ctl + "accept " + complaint + " --notice TL-12");
  ASSERT_EQ(rc, 0) << out;
  const std::string as_head = g_receptionctl + node.CliFlags("head", "48");
  std::tie(rc, out) =
      Shell(ctl + "complexity " + complaint + " --complexity complex --decision QĐ-5");
  EXPECT_EQ(rc, 4) << out;  // an officer may not
  std::tie(rc, out) =
      Shell(as_head + "complexity " + complaint + " --complexity complex --decision QĐ-5");
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("normal -> complex by decision QĐ-5"), std::string::npos) << out;
  EXPECT_NE(out.find("running, 45 calendar days"), std::string::npos) << out;
}

}  // namespace
}  // namespace reception::testing

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  if (argc < 3) {
    fprintf(stderr, "usage: case_node_test RECEPTIOND RECEPTIONCTL\n");
    return 2;
  }
  reception::testing::g_receptiond = argv[1];
  reception::testing::g_receptionctl = argv[2];
  return RUN_ALL_TESTS();
}
