// A federation of real receptiond processes on loopback for tests: N nodes,
// each knowing every other as a peer, and a client acting as a person of
// one node's unit.
#ifndef RECEPTION_TESTS_INTEGRATION_FEDERATION_HARNESS_H_
#define RECEPTION_TESTS_INTEGRATION_FEDERATION_HARNESS_H_

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "reception/cases/v1/case_service.grpc.pb.h"
#include "reception/cases/v1/handoff_service.grpc.pb.h"
#include "services/common/test_support.h"
#include "tests/integration/node_process.h"

namespace reception::testing {

namespace v1 = cases::v1;

// N nodes, each knowing every other as a peer, on fixed loopback ports chosen
// once so that restarts keep their addresses.
class Federation {
 public:
  // `topology`: relative to the source tree, or "generated:P:N" for a
  // two-level province P with communes P-1 .. P-N written by the harness.
  Federation(const std::string& receptiond, const std::vector<std::string>& units,
             const std::string& today, std::string topology = "deploy/topology/quang-nam-2024.yaml",
             const std::string& extra_config = "") {
    WriteFile(dir_.Join("today"), today + "\n");
    if (topology.rfind("generated:", 0) == 0) {
      const std::vector<std::string> parts = absl::StrSplit(topology, ':');
      int communes = 0;
      (void)absl::SimpleAtoi(parts[2], &communes);
      std::string yaml = absl::StrCat("name: generated\nunits:\n  - {code: \"", parts[1],
                                      "\", name: Tỉnh thử nghiệm, level: province}\n");
      for (int i = 1; i <= communes; ++i) {
        absl::StrAppend(&yaml, "  - {code: \"", parts[1], "-", i, "\", name: Xã thử nghiệm ", i,
                        ", level: commune, parent_code: \"", parts[1], "\"}\n");
      }
      topology = dir_.Join("topology.yaml");
      WriteFile(topology, yaml);
    }
    std::map<std::string, int> ports;
    for (const auto& u : units) ports[u] = NodeProcess::FreePort();
    for (const auto& u : units) {
      const std::string work = dir_.Join(u);
      std::filesystem::create_directories(work);
      NodeProcess::Options o;
      o.binary = receptiond;
      o.extra_config = extra_config;
      o.unit_code = u;
      o.topology = topology;
      o.work_dir = work;
      o.listen_port = ports[u];
      o.extra_args = {"--clock_file", dir_.Join("today")};
      for (const auto& other : units) {
        if (other != u) o.peers.push_back({other, absl::StrCat("127.0.0.1:", ports[other])});
      }
      nodes_[u] = std::make_unique<NodeProcess>(o);
    }
  }
  NodeProcess& node(const std::string& unit) { return *nodes_.at(unit); }
  const std::string& dir() const { return dir_.path(); }
  void StartAll() {
    for (auto& [u, n] : nodes_)
      ASSERT_TRUE(n->Start().ok()) << u << ": " << ReadFile(n->log_path());
  }

 private:
  TempDir dir_;
  std::map<std::string, std::unique_ptr<NodeProcess>> nodes_;
};

// A client of one node, acting as a person of that node's unit.
class Client {
 public:
  Client(NodeProcess& node, std::string unit) : node_(node), unit_(std::move(unit)) { Reconnect(); }
  void Reconnect() {
    auto channel = node_.NewChannel();
    cases_ = v1::CaseService::NewStub(channel);
    handoffs_ = v1::HandoffService::NewStub(channel);
  }

  template <typename Stub, typename Req, typename Resp>
  absl::StatusOr<Resp> Call(Stub* stub,
                            grpc::Status (Stub::*m)(grpc::ClientContext*, const Req&, Resp*),
                            const Req& req, const std::string& role = "officer") {
    grpc::ClientContext ctx;
    AddPrincipal(&ctx, role, unit_);
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    Resp out;
    grpc::Status s = (stub->*m)(&ctx, req, &out);
    if (!s.ok())
      return absl::Status(static_cast<absl::StatusCode>(s.error_code()), s.error_message());
    return out;
  }

  // Received on `received` (the harness's federations run on 16 June 2025
  // unless a test says otherwise).
  v1::Case Create(v1::CaseKind kind, const std::string& request_id,
                  const std::string& respondent_unit,
                  absl::CivilDay received = absl::CivilDay(2025, 6, 16)) {
    const v1::CreateCaseRequest r = SampleCase(kind, request_id, respondent_unit, received,
                                               "Khiếu nại quyết định của Chủ tịch UBND");
    auto out = Call(cases_.get(), &v1::CaseService::Stub::CreateCase, r);
    EXPECT_TRUE(out.ok()) << out.status();
    return out.ok() ? *out : v1::Case();
  }
  absl::StatusOr<v1::Handoff> Transfer(const std::string& name, const std::string& destination,
                                       const std::string& request_id) {
    v1::TransferCaseRequest r;
    r.set_name(name);
    r.set_destination_unit(destination);
    r.set_reason("Thuộc thẩm quyền giải quyết của cấp trên");
    r.set_request_id(request_id);
    return Call(handoffs_.get(), &v1::HandoffService::Stub::TransferCase, r);
  }
  absl::StatusOr<v1::Case> Get(const std::string& name) {
    v1::GetCaseRequest r;
    r.set_name(name);
    return Call(cases_.get(), &v1::CaseService::Stub::GetCase, r, "viewer");
  }
  absl::StatusOr<v1::Handoff> Handoff(const std::string& name) {
    v1::GetHandoffRequest r;
    r.set_name(name);
    return Call(handoffs_.get(), &v1::HandoffService::Stub::GetHandoff, r, "viewer");
  }
  std::vector<v1::CaseEvent> History(const std::string& name) {
    v1::GetCaseHistoryRequest r;
    r.set_name(name);
    r.set_page_size(1000);
    auto h = Call(cases_.get(), &v1::CaseService::Stub::GetCaseHistory, r, "viewer");
    EXPECT_TRUE(h.ok()) << h.status();
    return h.ok() ? std::vector<v1::CaseEvent>(h->events().begin(), h->events().end())
                  : std::vector<v1::CaseEvent>{};
  }
  bool Verifies(const std::string& name) {
    v1::VerifyCaseHistoryRequest r;
    r.set_name(name);
    auto v = Call(cases_.get(), &v1::CaseService::Stub::VerifyCaseHistory, r, "viewer");
    return v.ok() && v->valid();
  }
  // True once `name` is delivered (as the source sees it).
  bool Delivered(const std::string& handoff) {
    auto h = Handoff(handoff);
    return h.ok() && h->state() == v1::HANDOFF_STATE_DELIVERED;
  }
  v1::HandoffService::Stub* handoffs() { return handoffs_.get(); }
  v1::CaseService::Stub* cases() { return cases_.get(); }

 private:
  NodeProcess& node_;
  std::string unit_;
  std::unique_ptr<v1::CaseService::Stub> cases_;
  std::unique_ptr<v1::HandoffService::Stub> handoffs_;
};

}  // namespace reception::testing

#endif  // RECEPTION_TESTS_INTEGRATION_FEDERATION_HARNESS_H_
