// Two real nodes over mTLS with certificates from tools/pki/dev_pki.sh: a
// handoff between them; a node refusing a certificate from another CA, an
// expired one, a certificate of one unit offering as another, a node that is
// not a peer, and role node claimed by metadata; people's bearer tokens, and
// tokens with a bad signature, the wrong audience, expired or alg none;
// certificates replaced under a running node and served without a restart.
#include <stdio.h>

#include <filesystem>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "reception/cases/v1/case_service.grpc.pb.h"
#include "reception/cases/v1/handoff_service.grpc.pb.h"
#include "reception/federation/v1/case_federation.grpc.pb.h"
#include "services/common/civil_date.h"
#include "services/common/credentials.h"
#include "services/common/jwt.h"
#include "services/common/test_support.h"
#include "tests/integration/node_process.h"

namespace reception::testing {
namespace {

namespace v1 = cases::v1;
namespace fed = federation::v1;

std::string g_receptiond;
std::string g_receptionctl;

void Pki(const std::string& dir, const std::string& args) {
  const std::string out = Shell(
      absl::StrCat(SourcePath("tools/pki/dev_pki.sh"), " ", dir, " ", args, " 2>&1; echo rc=$?"));
  ASSERT_TRUE(absl::StrContains(out, "rc=0")) << out;
}

// The serial of the certificate the server at `port` presents.
std::string ServedSerial(int port) {
  return Shell(
      absl::StrCat("openssl s_client -connect 127.0.0.1:", port,
                   " -alpn h2 </dev/null 2>/dev/null | openssl x509 -noout -serial 2>/dev/null"));
}

absl::Status Status(const grpc::Status& s) {
  return absl::Status(static_cast<absl::StatusCode>(s.error_code()), s.error_message());
}

TEST(MtlsTest, NodesTrustOnlyCertificatesThatNameThem) {
  TempDir dir;
  const std::string pki = dir.Join("pki");
  Pki(pki, "48 48-1 48-3");
  // Another CA's certificate for 48-1, and an expired one from the right CA.
  Pki(dir.Join("foreign"), "48-1");
  std::filesystem::copy(pki, dir.Join("expired"), std::filesystem::copy_options::recursive);
  Pki(dir.Join("expired"), "--expired 48-1");
  WriteFile(dir.Join("today"), "2026-03-02\n");
  std::map<std::string, int> ports = {{"48", NodeProcess::FreePort()},
                                      {"48-1", NodeProcess::FreePort()}};
  std::map<std::string, std::unique_ptr<NodeProcess>> nodes;
  for (const auto& [unit, port] : ports) {
    std::filesystem::create_directories(dir.Join(unit));
    NodeProcess::Options o;
    o.binary = g_receptiond;
    o.unit_code = unit;
    o.work_dir = dir.Join(unit);
    o.listen_port = port;
    o.tls_dir = pki;
    o.extra_args = {"--clock_file", dir.Join("today")};
    for (const auto& [other, other_port] : ports) {
      if (other != unit) o.peers.push_back({other, absl::StrCat("127.0.0.1:", other_port)});
    }
    nodes[unit] = std::make_unique<NodeProcess>(o);
    ASSERT_TRUE(nodes[unit]->Start().ok()) << ReadFile(nodes[unit]->log_path());
  }
  NodeProcess& city = *nodes["48"];
  NodeProcess& ward = *nodes["48-1"];
  EXPECT_TRUE(absl::StrContains(ReadFile(city.log_path()), "event=auth mode=mtls"))
      << ReadFile(city.log_path());

  // A handoff from the ward to the city, node to node over mTLS.
  auto ward_cases = v1::CaseService::NewStub(ward.NewChannel());
  auto ward_handoffs = v1::HandoffService::NewStub(ward.NewChannel());
  grpc::ClientContext create_ctx;
  AddPrincipal(&create_ctx, "officer", "48-1");
  v1::Case c;
  ASSERT_TRUE(
      ward_cases
          ->CreateCase(&create_ctx,
                       SampleCase(v1::CASE_KIND_PETITION, "p1", "48", absl::CivilDay(2026, 3, 2),
                                  "Kiến nghị về trật tự đô thị"),
                       &c)
          .ok());
  auto transfer = [&](const std::string& id) {
    grpc::ClientContext ctx;
    AddPrincipal(&ctx, "officer", "48-1");
    v1::TransferCaseRequest r;
    r.set_name(c.name());
    r.set_destination_unit("48");
    r.set_reason("Thuộc thẩm quyền của thành phố");
    r.set_request_id(id);
    v1::Handoff h;
    EXPECT_TRUE(ward_handoffs->TransferCase(&ctx, r, &h).ok());
    return h;
  };
  auto delivered = [&](const v1::Handoff& h) {
    return WaitFor(
        [&] {
          grpc::ClientContext ctx;
          AddPrincipal(&ctx, "viewer", "48-1");
          v1::GetHandoffRequest r;
          r.set_name(h.name());
          v1::Handoff got;
          return ward_handoffs->GetHandoff(&ctx, r, &got).ok() &&
                 got.state() == v1::HANDOFF_STATE_DELIVERED;
        },
        absl::Seconds(20));
  };
  const v1::Handoff first = transfer("t1");
  ASSERT_TRUE(delivered(first)) << ReadFile(ward.log_path());

  // What the city refuses.
  auto offer_as = [&](std::shared_ptr<grpc::Channel> channel, const std::string& source,
                      bool metadata_node) {
    auto stub = fed::CaseFederationService::NewStub(channel);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    if (metadata_node) AddPrincipal(&ctx, "node", source);
    fed::OfferHandoffRequest offer;
    offer.mutable_handoff()->set_source_unit(source);
    offer.mutable_handoff()->set_destination_unit("48");
    fed::OfferHandoffResponse resp;
    return Status(stub->OfferHandoff(&ctx, offer, &resp));
  };
  auto channel_with = [&](const std::string& tls_dir, const std::string& unit) {
    auto creds = Credentials::ForClient(pki + "/ca.crt", tls_dir + "/" + unit + "/node.crt",
                                        tls_dir + "/" + unit + "/node.key");
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    return (*creds)->NewChannel(city.address(), args);
  };
  // A certificate from another CA, and an expired one: no TLS session.
  EXPECT_EQ(offer_as(channel_with(dir.Join("foreign"), "48-1"), "48-1", false).code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(offer_as(channel_with(dir.Join("expired"), "48-1"), "48-1", false).code(),
            absl::StatusCode::kUnavailable);
  // The ward's certificate offering as another unit.
  auto as_other = offer_as(channel_with(pki, "48-1"), "48-2", false);
  EXPECT_EQ(as_other.code(), absl::StatusCode::kPermissionDenied) << as_other;
  // A node of the federation's CA that is not the city's peer.
  auto stranger = offer_as(channel_with(pki, "48-3"), "48-3", false);
  EXPECT_EQ(stranger.code(), absl::StatusCode::kPermissionDenied) << stranger;
  EXPECT_TRUE(absl::StrContains(stranger.message(), "not a federation peer")) << stranger;
  // The other way round: a node's channel to a peer accepts only the server
  // certificate that names that peer, whatever answers at its address.
  auto ward_creds =
      Credentials::ForClient(pki + "/ca.crt", pki + "/48-1/node.crt", pki + "/48-1/node.key");
  ASSERT_TRUE(ward_creds.ok()) << ward_creds.status();
  auto node_key_via = [&](std::shared_ptr<grpc::Channel> channel) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    fed::NodeKey key;
    return Status(fed::CaseFederationService::NewStub(channel)->GetNodeKey(
        &ctx, fed::GetNodeKeyRequest(), &key));
  };
  grpc::ChannelArguments fresh;
  fresh.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  EXPECT_TRUE(node_key_via((*ward_creds)->NewChannelTo(city.address(), "48", fresh)).ok());
  auto impostor = node_key_via((*ward_creds)->NewChannelTo(city.address(), "48-2", fresh));
  EXPECT_EQ(impostor.code(), absl::StatusCode::kUnavailable) << impostor;
  // Role node claimed by metadata, without a certificate, from loopback.
  auto claimed = offer_as(city.NewChannel(), "48-1", true);
  EXPECT_EQ(claimed.code(), absl::StatusCode::kUnauthenticated) << claimed;
  EXPECT_TRUE(absl::StrContains(claimed.message(), "client certificate")) << claimed;
  // People present bearer tokens from the identity provider.
  auto list_with = [&](const std::string& authorization) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    if (!authorization.empty()) ctx.AddMetadata("authorization", authorization);
    v1::ListCasesResponse listed;
    const grpc::Status st = v1::CaseService::NewStub(city.NewChannel())
                                ->ListCases(&ctx, v1::ListCasesRequest(), &listed);
    return std::make_pair(Status(st), listed.cases_size());
  };
  const auto [ok, count] = list_with("Bearer " + TestToken("viewer", "48", "an.le"));
  EXPECT_TRUE(ok.ok()) << ok;
  EXPECT_EQ(count, 1);
  const std::string issuer_key = ReadFile(TestPkiDir() + "/tokens/issuer.key");
  const int64_t now = absl::ToUnixSeconds(absl::Now());
  auto claims = [&](const std::string& aud, int64_t exp) {
    return absl::StrCat(
        "{\"iss\":\"https://id.test.reception\",\"aud\":\"", aud,
        "\",\"sub\":\"an.le\",\"reception_role\":\"viewer\",\"reception_unit\":\"48\","
        "\"iat\":",
        now - 120, ",\"exp\":", exp, "}");
  };
  // Signed by a key the identity provider never published (same key id).
  Shell(absl::StrCat("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ",
                     dir.Join("rogue.key"), " 2>/dev/null"));
  auto forged = IssueToken(ReadFile(dir.Join("rogue.key")), "test-1", "ES256",
                           claims("reception", now + 600));
  ASSERT_TRUE(forged.ok()) << forged.status();
  auto wrong_audience =
      IssueToken(issuer_key, "test-1", "ES256", claims("another-system", now + 600));
  auto expired = IssueToken(issuer_key, "test-1", "ES256", claims("reception", now - 3600));
  std::string header, payload;
  absl::WebSafeBase64Escape("{\"alg\":\"none\",\"typ\":\"JWT\"}", &header);
  absl::WebSafeBase64Escape(claims("reception", now + 600), &payload);
  const std::vector<std::pair<std::string, std::string>> refused = {
      {"Bearer " + *forged, "bad_signature"},
      {"Bearer " + *wrong_audience, "wrong_audience"},
      {"Bearer " + *expired, "token_expired"},
      {absl::StrCat("Bearer ", header, ".", payload, "."), "algorithm_not_allowed"},
      {"", "no_credentials"}};
  for (const auto& [authorization, reason] : refused) {
    const auto [st, n] = list_with(authorization);
    EXPECT_EQ(st.code(), absl::StatusCode::kUnauthenticated) << reason << ": " << st;
    EXPECT_EQ(n, 0);
  }
  // Refusals are counted by reason (never with what the caller sent), and no
  // token reaches the log.
  const std::string metrics = ScrapeMetrics(city.admin_port());
  for (const char* reason :
       {"bad_signature", "wrong_audience", "token_expired", "algorithm_not_allowed"}) {
    EXPECT_TRUE(absl::StrContains(
        metrics, absl::StrCat("reception_auth_failures_total{reason=\"", reason, "\"} 1")))
        << reason << "\n"
        << metrics;
  }
  EXPECT_TRUE(
      absl::StrContains(metrics, "reception_auth_failures_total{reason=\"no_credentials\"} 2"))
      << metrics;
  EXPECT_FALSE(absl::StrContains(ReadFile(city.log_path()), forged->substr(forged->size() - 40)));
  // receptionctl over TLS (--ca) with a token, and refusing a server it
  // cannot verify.
  const std::string cli =
      Shell(absl::StrCat(g_receptionctl, " --server ", city.address(), " --ca ", pki,
                         "/ca.crt --token ", TestToken("viewer", "48", "cli"), " list 2>&1"));
  EXPECT_TRUE(absl::StrContains(cli, c.number())) << cli;
  const std::string no_token =
      Shell(absl::StrCat(g_receptionctl, " --server ", city.address(), " --ca ", pki,
                         "/ca.crt --unit 48 --role viewer list 2>&1"));
  EXPECT_TRUE(absl::StrContains(no_token, "UNAUTHENTICATED")) << no_token;
  const std::string wrong_ca = Shell(
      absl::StrCat(g_receptionctl, " --server ", city.address(), " --ca ", dir.Join("foreign"),
                   "/ca.crt --token ", TestToken("viewer", "48", "cli"), " --timeout 3 list 2>&1"));
  EXPECT_FALSE(absl::StrContains(wrong_ca, c.number())) << wrong_ca;

  // Rotation: a new certificate for the city, served without a restart, and
  // the federation goes on.
  const std::string before = ServedSerial(city.port());
  ASSERT_TRUE(absl::StartsWith(before, "serial=")) << before;
  Pki(pki, "48");
  EXPECT_TRUE(WaitFor([&] { return ServedSerial(city.port()) != before; }, absl::Seconds(15)))
      << before << " still served";
  grpc::ClientContext back_ctx;
  AddPrincipal(&back_ctx, "officer", "48");
  v1::ReturnCaseRequest back;
  back.set_name(c.name());
  back.set_reason("Không thuộc thẩm quyền");
  back.set_request_id("r1");
  v1::Handoff returned;
  auto city_handoffs = v1::HandoffService::NewStub(city.NewChannel());
  ASSERT_TRUE(city_handoffs->ReturnCase(&back_ctx, back, &returned).ok());
  EXPECT_TRUE(WaitFor(
      [&] {
        grpc::ClientContext ctx;
        AddPrincipal(&ctx, "viewer", "48");
        v1::GetHandoffRequest r;
        r.set_name(returned.name());
        v1::Handoff got;
        return city_handoffs->GetHandoff(&ctx, r, &got).ok() &&
               got.state() == v1::HANDOFF_STATE_DELIVERED;
      },
      absl::Seconds(20)))
      << ReadFile(city.log_path());
}

// Kubernetes' native gRPC probes speak no TLS: health_address serves
// grpc.health.v1 alone in plaintext, mirroring the node's state, while the
// API stays behind mTLS (nothing else answers on the health port).
TEST(MtlsTest, APlaintextHealthPortServesHealthAlone) {
  TempDir dir;
  const int health_port = NodeProcess::FreePort();
  NodeProcess::Options o;
  o.binary = g_receptiond;
  o.unit_code = "48";
  o.work_dir = dir.path();
  o.extra_config = absl::StrCat("health_address: 127.0.0.1:", health_port, "\n");
  NodeProcess node(o);
  ASSERT_TRUE(node.Start().ok()) << ReadFile(node.log_path());
  auto plain = grpc::CreateChannel(absl::StrCat("127.0.0.1:", health_port),
                                   grpc::InsecureChannelCredentials());
  auto health = grpc::health::v1::Health::NewStub(plain);
  grpc::health::v1::HealthCheckRequest req;
  grpc::health::v1::HealthCheckResponse resp;
  for (const char* service : {"", "reception.cases.v1.CaseService"}) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    req.set_service(service);
    ASSERT_TRUE(health->Check(&ctx, req, &resp).ok()) << service;
    EXPECT_EQ(resp.status(), grpc::health::v1::HealthCheckResponse::SERVING) << service;
  }
  // The API is not there.
  auto cases = v1::CaseService::NewStub(plain);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  v1::LookupCaseStatusRequest lookup;
  v1::CaseStatus status;
  EXPECT_EQ(cases->LookupCaseStatus(&ctx, lookup, &status).error_code(),
            grpc::StatusCode::UNIMPLEMENTED);
  // On stopping, the health port says so before it goes.
  EXPECT_EQ(node.Stop(), 0);
  grpc::ClientContext after;
  after.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
  req.set_service("");
  EXPECT_FALSE(health->Check(&after, req, &resp).ok() &&
               resp.status() == grpc::health::v1::HealthCheckResponse::SERVING);
}

}  // namespace
}  // namespace reception::testing

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  if (argc < 3) {
    fprintf(stderr, "usage: mtls_test RECEPTIOND RECEPTIONCTL\n");
    return 2;
  }
  reception::testing::g_receptiond = argv[1];
  reception::testing::g_receptionctl = argv[2];
  return RUN_ALL_TESTS();
}
