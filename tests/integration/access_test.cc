// The access table against the API and a real node: every method of every
// service (from the compiled descriptors) has exactly one rule and every rule
// names a real method; through a real node over mTLS, a person of an
// unrelated unit is refused every method, a person is refused every
// node-to-node method, a node is refused people's methods, and reads are
// scoped (a bridge point below the node sees only what it received).
#include <stdio.h>

#include <fstream>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "google/protobuf/descriptor.h"
#include "grpcpp/generic/generic_stub.h"
#include "gtest/gtest.h"
#include "reception/admin/v1/backup_service.grpc.pb.h"
#include "reception/admin/v1/outbox_service.grpc.pb.h"
#include "reception/cases/v1/case_service.grpc.pb.h"
#include "reception/cases/v1/handoff_service.grpc.pb.h"
#include "reception/federation/v1/case_federation.grpc.pb.h"
#include "reception/federation/v1/scheduling_federation.grpc.pb.h"
#include "reception/media/v1/media_service.grpc.pb.h"
#include "reception/routing/v1/routing_service.grpc.pb.h"
#include "reception/scheduling/v1/scheduling_service.grpc.pb.h"
#include "reception/units/v1/unit_service.grpc.pb.h"
#include "services/common/authorization.h"
#include "services/common/test_support.h"
#include "tests/integration/node_process.h"

namespace reception::testing {
namespace {

namespace v1 = cases::v1;
std::string g_receptiond;

// Every method of the project's services, as "pkg.Service/Method", with
// whether it streams.
std::vector<std::pair<std::string, bool>> AllMethods() {
  // Linking a message of each file registers its services' descriptors.
  (void)v1::CreateCaseRequest::descriptor();
  (void)v1::TransferCaseRequest::descriptor();
  (void)federation::v1::OfferHandoffRequest::descriptor();
  (void)federation::v1::OfferRegistrationRequest::descriptor();
  (void)admin::v1::ListOutboxItemsRequest::descriptor();
  (void)routing::v1::RouteCaseRequest::descriptor();
  (void)media::v1::JoinRoomRequest::descriptor();
  (void)scheduling::v1::CreateSessionRequest::descriptor();
  (void)admin::v1::CreateBackupRequest::descriptor();
  (void)units::v1::GetUnitRequest::descriptor();
  const auto* pool = google::protobuf::DescriptorPool::generated_pool();
  std::vector<std::pair<std::string, bool>> out;
  for (const char* service :
       {"reception.cases.v1.CaseService", "reception.cases.v1.HandoffService",
        "reception.routing.v1.RoutingService", "reception.media.v1.MediaService",
        "reception.scheduling.v1.SchedulingService",
        "reception.federation.v1.CaseFederationService",
        "reception.federation.v1.SchedulingFederationService", "reception.admin.v1.OutboxService",
        "reception.admin.v1.BackupService", "reception.units.v1.UnitService"}) {
    const auto* s = pool->FindServiceByName(service);
    EXPECT_NE(s, nullptr) << service;
    if (s == nullptr) continue;
    for (int i = 0; i < s->method_count(); ++i) {
      const auto* m = s->method(i);
      out.push_back(
          {absl::StrCat(service, "/", m->name()), m->client_streaming() || m->server_streaming()});
    }
  }
  return out;
}

TEST(AccessTable, EveryMethodHasExactlyOneRuleAndEveryRuleAMethod) {
  const auto methods = AllMethods();
  ASSERT_GT(methods.size(), 70u);
  std::set<std::string> known;
  for (const auto& [m, streaming] : methods) {
    known.insert(m);
    EXPECT_NE(FindAccessRule(m), nullptr)
        << m << " has no rule: add it to services/common/authorization.cc";
  }
  std::set<std::string> seen;
  for (const auto& rule : AccessTable()) {
    EXPECT_TRUE(known.count(rule.method)) << rule.method << " is not a method of the API";
    EXPECT_TRUE(seen.insert(rule.method).second) << rule.method << " has two rules";
  }
  // An unknown method is refused, whoever calls.
  Principal head{"x", Role::kHead, "48"};
  Topology t = *Topology::LoadFile(SourcePath("deploy/topology/da-nang-2025.yaml"));
  EXPECT_EQ(Authorize("reception.cases.v1.CaseService/DropAllCases", head, t, "48").code(),
            absl::StatusCode::kPermissionDenied);
}

TEST(AccessTable, TheReadmeShowsTheTable) {
  const std::string readme = ReadFile(SourcePath("README.md"));
  EXPECT_TRUE(absl::StrContains(readme, AccessTableMarkdown()))
      << "README.md must contain the access table exactly as AccessTableMarkdown() prints it:\n"
      << AccessTableMarkdown();
}

// A call of `method` with an empty request; its status code.
grpc::StatusCode Call(grpc::GenericStub& stub, const std::string& method, bool streaming,
                      const std::function<void(grpc::ClientContext*)>& identify) {
  grpc::ClientContext ctx;
  identify(&ctx);
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  grpc::CompletionQueue cq;
  grpc::ByteBuffer request, response;
  grpc::Slice empty("");
  request = grpc::ByteBuffer(&empty, 1);
  grpc::Status status;
  void* tag;
  bool ok;
  if (!streaming) {
    auto call = stub.PrepareUnaryCall(&ctx, "/" + method, request, &cq);
    call->StartCall();
    call->Finish(&response, &status, reinterpret_cast<void*>(1));
    cq.Next(&tag, &ok);
    return status.error_code();
  }
  auto call = stub.PrepareCall(&ctx, "/" + method, &cq);
  call->StartCall(reinterpret_cast<void*>(1));
  cq.Next(&tag, &ok);
  call->Write(request, reinterpret_cast<void*>(2));
  cq.Next(&tag, &ok);
  call->WritesDone(reinterpret_cast<void*>(3));
  cq.Next(&tag, &ok);
  call->Read(&response, reinterpret_cast<void*>(4));  // until the server ends the stream
  cq.Next(&tag, &ok);
  call->Finish(&status, reinterpret_cast<void*>(5));
  while (cq.Next(&tag, &ok) && tag != reinterpret_cast<void*>(5)) {
  }
  return status.error_code();
}

class AccessNode : public ::testing::Test {
 protected:
  void SetUp() override {
    WriteFile(dir_.Join("today"), "2026-03-02\n");
    NodeProcess::Options o;
    o.binary = g_receptiond;
    o.unit_code = "48";
    o.work_dir = dir_.path();
    o.extra_args = {"--clock_file", dir_.Join("today")};
    node_ = std::make_unique<NodeProcess>(o);
    ASSERT_TRUE(node_->Start().ok()) << ReadFile(node_->log_path());
  }
  TempDir dir_;
  std::unique_ptr<NodeProcess> node_;
};

TEST_F(AccessNode, EveryMethodRefusedToTheWrongCaller) {
  grpc::GenericStub people(node_->NewChannel());
  grpc::GenericStub peer(node_->NewChannelAs("48-29"));
  int checked = 0;
  for (const auto& [method, streaming] : AllMethods()) {
    const AccessRule* rule = FindAccessRule(method);
    ASSERT_NE(rule, nullptr);
    if (rule->open) {
      // Public (the status look-up): anyone reaches the method itself, which
      // judges the request (an empty one is INVALID_ARGUMENT), credentials
      // or none.
      for (auto who : {+[](grpc::ClientContext* c) { AddPrincipal(c, "head", "79"); },
                       +[](grpc::ClientContext*) {}}) {
        EXPECT_EQ(Call(people, method, streaming, who), grpc::StatusCode::INVALID_ARGUMENT)
            << method;
      }
      EXPECT_EQ(Call(peer, method, streaming, [](grpc::ClientContext*) {}),
                grpc::StatusCode::INVALID_ARGUMENT)
          << method;
      ++checked;
      continue;
    }
    // A head of a unit outside the topology: nothing, whatever the method.
    EXPECT_EQ(Call(people, method, streaming,
                   [](grpc::ClientContext* c) { AddPrincipal(c, "head", "79"); }),
              grpc::StatusCode::PERMISSION_DENIED)
        << method;
    // A head of a unit beside this one (48-29 is below 48; 49 is no
    // ancestor of 48 in this topology).
    if (rule->people_roles == 0) {
      // Node-to-node: refused to the node's own head.
      EXPECT_EQ(Call(people, method, streaming,
                     [](grpc::ClientContext* c) { AddPrincipal(c, "head", "48"); }),
                grpc::StatusCode::PERMISSION_DENIED)
          << method;
    }
    if (!rule->nodes) {
      // People's methods: refused to a node's certificate.
      EXPECT_EQ(Call(peer, method, streaming, [](grpc::ClientContext*) {}),
                grpc::StatusCode::PERMISSION_DENIED)
          << method;
    }
    ++checked;
  }
  EXPECT_GT(checked, 70);
}

TEST_F(AccessNode, ReadsAreScopedAndACommuneDecidesNothingForItsParent) {
  auto cases = v1::CaseService::NewStub(node_->NewChannel());
  auto create = [&](const std::string& unit, const std::string& id) {
    v1::CreateCaseRequest r = SampleCase(v1::CASE_KIND_PETITION, id, "48",
                                         absl::CivilDay(2026, 3, 2), "Kiến nghị về trật tự đô thị");
    r.mutable_case_()->mutable_reception_unit()->set_code(unit);
    auto c = CallAs(cases.get(), &v1::CaseService::Stub::CreateCase, r, "officer", unit, "o");
    EXPECT_TRUE(c.ok()) << c.status();
    return c.ok() ? *c : v1::Case();
  };
  const v1::Case at_city = create("48", "c1");
  const v1::Case at_commune = create("48-29", "c2");
  ASSERT_EQ(at_commune.reception_unit().code(), "48-29");
  auto list = [&](const std::string& role, const std::string& unit) {
    return CallAs(cases.get(), &v1::CaseService::Stub::ListCases, v1::ListCasesRequest(), role,
                  unit, "r");
  };
  // The city sees both; the bridge point below sees what it received.
  EXPECT_EQ(list("viewer", "48")->cases_size(), 2);
  auto commune = list("officer", "48-29");
  ASSERT_TRUE(commune.ok()) << commune.status();
  ASSERT_EQ(commune->cases_size(), 1);
  EXPECT_EQ(commune->cases(0).name(), at_commune.name());
  v1::GetCaseRequest get;
  get.set_name(at_city.name());
  EXPECT_EQ(CallAs(cases.get(), &v1::CaseService::Stub::GetCase, get, "officer", "48-29", "r")
                .status()
                .code(),
            absl::StatusCode::kPermissionDenied);
  // A unit that is not in the topology reads nothing and exports nothing.
  EXPECT_EQ(list("officer", "79").status().code(), absl::StatusCode::kPermissionDenied);
  v1::ExportReceptionLogRequest exp;
  EXPECT_EQ(
      CallAs(cases.get(), &v1::CaseService::Stub::ExportReceptionLog, exp, "viewer", "79", "r")
          .status()
          .code(),
      absl::StatusCode::kPermissionDenied);
  // The commune's head may receive at the city's node but not decide there.
  v1::ClassifyCaseRequest classify;
  classify.set_name(at_commune.name());
  classify.set_within_competence(true);
  auto refused =
      CallAs(cases.get(), &v1::CaseService::Stub::ClassifyCase, classify, "head", "48-29", "h");
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kPermissionDenied) << refused.status();
  EXPECT_TRUE(absl::StrContains(refused.status().message(), "a unit below")) << refused.status();
}

}  // namespace
}  // namespace reception::testing

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  if (argc < 2) {
    fprintf(stderr, "usage: access_test RECEPTIOND\n");
    return 2;
  }
  reception::testing::g_receptiond = argv[1];
  return RUN_ALL_TESTS();
}
