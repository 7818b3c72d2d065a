// The case service through real gRPC: a server on 127.0.0.1:0 in this
// process, generated stubs, the real interceptor, health and authentication.
#include "services/case/case_service.h"

#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/impl/codegen/client_unary_call.h"
#include "gtest/gtest.h"
#include "services/case/test_fixture.h"
#include "services/common/server_host.h"

namespace reception {
namespace {

class CaseServiceTest : public testing::CaseRegistryFixture {
 protected:
  void SetUp() override {
    CaseRegistryFixture::SetUp();
    metrics_ptr_ = std::make_shared<prometheus::Registry>();
    scans_ = std::make_unique<WorkPool>(2, "test-scan");
    service_ = std::make_unique<CaseGrpcService>(registry_.get(), &auth_, scans_.get());
    host_ = std::make_unique<ServerHost>(ServerHost::Options{"127.0.0.1:0", ""}, metrics_ptr_);
    host_->AddService(service_.get(), "reception.cases.v1.CaseService");
    ASSERT_TRUE(host_->Start().ok());
    host_->SetServing(true);
    channel_ = grpc::CreateChannel(absl::StrCat("127.0.0.1:", host_->port()),
                                   grpc::InsecureChannelCredentials());
    stub_ = cases::v1::CaseService::NewStub(channel_);
  }
  void TearDown() override {
    host_->Shutdown(absl::Seconds(1));
    scans_.reset();
  }

  void As(grpc::ClientContext* ctx, const std::string& role, const std::string& unit = "48") {
    ctx->AddMetadata("x-reception-subject", "tester");
    ctx->AddMetadata("x-reception-role", role);
    ctx->AddMetadata("x-reception-unit", unit);
  }

  DevMetadataAuthenticator auth_;
  std::shared_ptr<prometheus::Registry> metrics_ptr_;
  std::unique_ptr<WorkPool> scans_;
  std::unique_ptr<CaseGrpcService> service_;
  std::unique_ptr<ServerHost> host_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<cases::v1::CaseService::Stub> stub_;
};

TEST_F(CaseServiceTest, CreateGetAndErrorsOverGrpc) {
  grpc::ClientContext ctx;
  As(&ctx, "officer");
  cases::v1::Case created;
  auto s = stub_->CreateCase(&ctx, Complaint("g1"), &created);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(created.name(), "cases/48-2026-000001");

  grpc::ClientContext get_ctx;
  As(&get_ctx, "viewer");
  cases::v1::GetCaseRequest get;
  get.set_name(created.name());
  cases::v1::Case got;
  ASSERT_TRUE(stub_->GetCase(&get_ctx, get, &got).ok());
  EXPECT_EQ(got.etag(), created.etag());

  grpc::ClientContext bad_ctx;
  As(&bad_ctx, "officer");
  auto bad = Complaint("g2");
  bad.mutable_case_()->mutable_petitioners(0)->set_citizen_id("12");
  s = stub_->CreateCase(&bad_ctx, bad, &created);
  EXPECT_EQ(s.error_code(), grpc::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(), "case.petitioners[0].citizen_id must be 12 digits");

  grpc::ClientContext missing_ctx;
  As(&missing_ctx, "officer");
  get.set_name("cases/48-2026-424242");
  EXPECT_EQ(stub_->GetCase(&missing_ctx, get, &got).error_code(), grpc::NOT_FOUND);
}

TEST_F(CaseServiceTest, ScansAnswerFromThePool) {
  grpc::ClientContext ctx;
  As(&ctx, "officer");
  cases::v1::Case created;
  ASSERT_TRUE(stub_->CreateCase(&ctx, Complaint("s1"), &created).ok());
  grpc::ClientContext list_ctx;
  As(&list_ctx, "viewer");
  cases::v1::ListCasesRequest list;
  list.set_query("nguyen van an");
  cases::v1::ListCasesResponse page;
  ASSERT_TRUE(stub_->ListCases(&list_ctx, list, &page).ok());
  ASSERT_EQ(page.cases_size(), 1);
  EXPECT_EQ(page.cases(0).name(), created.name());
  grpc::ClientContext bad_ctx;
  As(&bad_ctx, "viewer");
  list.set_page_size(-1);
  EXPECT_EQ(stub_->ListCases(&bad_ctx, list, &page).error_code(), grpc::INVALID_ARGUMENT);
  grpc::ClientContext verify_ctx;
  As(&verify_ctx, "viewer");
  cases::v1::VerifyCaseHistoryRequest verify;
  verify.set_name(created.name());
  cases::v1::VerifyCaseHistoryResponse verdict;
  ASSERT_TRUE(stub_->VerifyCaseHistory(&verify_ctx, verify, &verdict).ok());
  EXPECT_TRUE(verdict.valid());
}

TEST_F(CaseServiceTest, CallsWithoutAPrincipalAreUnauthenticated) {
  grpc::ClientContext ctx;
  cases::v1::Case out;
  auto s = stub_->CreateCase(&ctx, Complaint("u"), &out);
  EXPECT_EQ(s.error_code(), grpc::UNAUTHENTICATED);
  grpc::ClientContext bad_role;
  As(&bad_role, "superuser");
  s = stub_->CreateCase(&bad_role, Complaint("u"), &out);
  EXPECT_EQ(s.error_code(), grpc::UNAUTHENTICATED);
  EXPECT_NE(s.error_message().find("is not one of officer, inspector, head, viewer, node"),
            std::string::npos);
}

TEST_F(CaseServiceTest, ErrorMessagesNeverCarryTheDenouncersIdentity) {
  grpc::ClientContext ctx;
  As(&ctx, "officer");
  cases::v1::Case created;
  ASSERT_TRUE(stub_->CreateCase(&ctx, Denunciation("d"), &created).ok());
  EXPECT_EQ(created.petitioners_size(), 0);
  // Reusing the request id with a different denouncer is refused without
  // echoing either identity.
  auto other = Denunciation("d");
  other.mutable_case_()->mutable_petitioners(0)->set_full_name("Võ Văn Em");
  grpc::ClientContext ctx2;
  As(&ctx2, "officer");
  auto s = stub_->CreateCase(&ctx2, other, &created);
  EXPECT_EQ(s.error_code(), grpc::ALREADY_EXISTS);
  EXPECT_EQ(s.error_message().find("Võ"), std::string::npos);
  EXPECT_EQ(s.error_message().find("Cúc"), std::string::npos);
}

TEST_F(CaseServiceTest, HealthAndMetricsAreServed) {
  auto health = grpc::health::v1::Health::NewStub(channel_);
  grpc::ClientContext ctx;
  grpc::health::v1::HealthCheckRequest req;
  req.set_service("reception.cases.v1.CaseService");
  grpc::health::v1::HealthCheckResponse resp;
  ASSERT_TRUE(health->Check(&ctx, req, &resp).ok());
  EXPECT_EQ(resp.status(), grpc::health::v1::HealthCheckResponse::SERVING);
  host_->SetServing(false);
  grpc::ClientContext ctx2;
  ASSERT_TRUE(health->Check(&ctx2, req, &resp).ok());
  EXPECT_EQ(resp.status(), grpc::health::v1::HealthCheckResponse::NOT_SERVING);

  grpc::ClientContext c3;
  As(&c3, "officer");
  cases::v1::Case out;
  (void)stub_->CreateCase(&c3, Complaint("m"), &out);
  bool found = false;
  for (const auto& family : metrics_ptr_->Collect()) {
    if (family.name != "reception_grpc_server_handled_total") continue;
    for (const auto& m : family.metric) {
      std::map<std::string, std::string> labels;
      for (const auto& l : m.label) labels[l.name] = l.value;
      if (labels["grpc_method"] == "CreateCase" && labels["grpc_code"] == "OK") found = true;
    }
  }
  EXPECT_TRUE(found);

  // Made-up method names (chosen by the client before it is authenticated)
  // all fall under one "unknown" series instead of one series each.
  auto series = [&] {
    size_t n = 0;
    for (const auto& family : metrics_ptr_->Collect()) {
      if (family.name == "reception_grpc_server_started_total") n += family.metric.size();
    }
    return n;
  };
  for (int i = 0; i < 2; ++i) {
    const std::string name = absl::StrCat("/reception.cases.v1.CaseService/Invented", i);
    grpc::internal::RpcMethod method(name.c_str(), grpc::internal::RpcMethod::NORMAL_RPC, channel_);
    grpc::ClientContext ctx;
    cases::v1::Case in, resp;
    EXPECT_EQ(
        grpc::internal::BlockingUnaryCall(channel_.get(), method, &ctx, in, &resp).error_code(),
        grpc::StatusCode::UNIMPLEMENTED);
  }
  const size_t before = series();
  for (int i = 0; i < 50; ++i) {
    const std::string name = absl::StrCat("/made.up.Service", i, "/Method", i);
    grpc::internal::RpcMethod method(name.c_str(), grpc::internal::RpcMethod::NORMAL_RPC, channel_);
    grpc::ClientContext ctx;
    cases::v1::Case in, resp;
    (void)grpc::internal::BlockingUnaryCall(channel_.get(), method, &ctx, in, &resp);
  }
  EXPECT_EQ(series(), before);
  bool unknown = false;
  for (const auto& family : metrics_ptr_->Collect()) {
    if (family.name != "reception_grpc_server_started_total") continue;
    for (const auto& m : family.metric) {
      for (const auto& l : m.label) unknown |= l.name == "grpc_method" && l.value == "unknown";
    }
  }
  EXPECT_TRUE(unknown);
  // The health checks made above keep their own series (probes are watched).
  bool health_series = false;
  for (const auto& family : metrics_ptr_->Collect()) {
    if (family.name != "reception_grpc_server_started_total") continue;
    for (const auto& m : family.metric) {
      for (const auto& l : m.label)
        health_series |= l.name == "grpc_service" && l.value == "grpc.health.v1.Health";
    }
  }
  EXPECT_TRUE(health_series);
}

}  // namespace
}  // namespace reception
