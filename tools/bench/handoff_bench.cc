// Handoff benchmark: two receptiond processes on loopback (a commune and its
// district, Quảng Nam 2024). Measures, in one run:
//   1. handoff latency: TransferCase accepted -> the destination owns the
//      case (polled every 0.2 ms on the destination), against the latency of
//      one durable CreateCase measured the same way in the same run;
//   2. backlog drain: N transfers queued while the destination is down, then
//      the time until the source's outbox is empty after it returns, against
//      the time the source took to queue them.
// Prints a Markdown section; with --write FILE replaces the section between
// its markers in FILE (BENCHMARKS.md).
//   handoff_bench RECEPTIOND [--sequential 300] [--backlog 10000] [--write BENCHMARKS.md]
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "reception/cases/v1/case_service.grpc.pb.h"
#include "reception/cases/v1/handoff_service.grpc.pb.h"
#include "services/common/civil_date.h"
#include "services/common/test_support.h"
#include "tests/integration/node_process.h"
#include "tools/bench/bench_report.h"

namespace reception::testing {
namespace {

namespace v1 = cases::v1;
using bench::Percentile;

struct Ctx {
  explicit Ctx(const std::string& unit) {
    AddPrincipal(&ctx, "officer", unit);
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  }
  grpc::ClientContext ctx;
};

v1::CreateCaseRequest NewCase(const std::string& id) {
  v1::CreateCaseRequest r = SampleCase(
      v1::CASE_KIND_COMPLAINT, id, "502", absl::CivilDay(2025, 6, 16),
      absl::StrCat("Khiếu nại quyết định hành chính số ", id, " ", std::string(600, 'x')));
  // Distinct citizens, so duplicate detection does not link every case.
  r.mutable_case_()->mutable_petitioners(0)->set_citizen_id(
      absl::StrFormat("0492%08d", std::hash<std::string>()(id) % 100000000));
  return r;
}

int Main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: handoff_bench RECEPTIOND [--sequential N] [--backlog N] [--write FILE]\n";
    return 2;
  }
  int sequential = 300, backlog = 10000;
  std::string write;
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--sequential") (void)absl::SimpleAtoi(v, &sequential);
    if (k == "--backlog") (void)absl::SimpleAtoi(v, &backlog);
    if (k == "--write") write = v;
  }
  TempDir dir;
  WriteFile(dir.Join("today"), "2025-06-16\n");
  const int port_src = NodeProcess::FreePort(), port_dst = NodeProcess::FreePort();
  auto make = [&](const std::string& unit, int port, const std::string& peer, int peer_port) {
    std::filesystem::create_directories(dir.Join(unit));
    NodeProcess::Options o;
    o.binary = argv[1];
    o.unit_code = unit;
    o.topology = "deploy/topology/quang-nam-2024.yaml";
    o.work_dir = dir.Join(unit);
    o.listen_port = port;
    o.extra_args = {"--clock_file", dir.Join("today")};
    o.peers = {{peer, absl::StrCat("127.0.0.1:", peer_port)}};
    return std::make_unique<NodeProcess>(o);
  };
  auto src = make("502-1", port_src, "502", port_dst);
  auto dst = make("502", port_dst, "502-1", port_src);
  if (!src->Start().ok() || !dst->Start().ok()) {
    std::cerr << "nodes did not start\n";
    return 1;
  }
  auto src_cases = v1::CaseService::NewStub(src->NewChannel());
  auto src_handoffs = v1::HandoffService::NewStub(src->NewChannel());
  auto dst_cases = v1::CaseService::NewStub(dst->NewChannel());

  auto create = [&](const std::string& id) {
    Ctx c("502-1");
    v1::Case out;
    grpc::Status s = src_cases->CreateCase(&c.ctx, NewCase(id), &out);
    if (!s.ok()) {
      std::cerr << "create: " << s.error_message() << "\n";
      std::exit(1);
    }
    return out;
  };
  auto transfer = [&](const v1::Case& c, const std::string& id) {
    v1::TransferCaseRequest r;
    r.set_name(c.name());
    r.set_destination_unit("502");
    r.set_reason("Thuộc thẩm quyền của UBND thành phố");
    r.set_request_id(id);
    Ctx ctx("502-1");
    v1::Handoff h;
    grpc::Status s = src_handoffs->TransferCase(&ctx.ctx, r, &h);
    if (!s.ok()) {
      std::cerr << "transfer: " << s.error_message() << "\n";
      std::exit(1);
    }
  };

  // 1. Latency, sequential: one durable create, then one handoff.
  std::vector<double> create_ms, handoff_ms;
  for (int i = 0; i < sequential; ++i) {
    const absl::Time t0 = absl::Now();
    const v1::Case c = create(absl::StrCat("seq-", i));
    create_ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - t0));
    const absl::Time t1 = absl::Now();
    transfer(c, absl::StrCat("tseq-", i));
    for (;;) {
      Ctx ctx("502");
      v1::GetCaseRequest g;
      g.set_name(c.name());
      v1::Case got;
      if (dst_cases->GetCase(&ctx.ctx, g, &got).ok() && got.owner_unit() == "502") break;
      absl::SleepFor(absl::Microseconds(200));
    }
    handoff_ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - t1));
  }

  // 2. Backlog: queued while the destination is down, drained when it returns.
  if (dst->Stop() != 0) std::cerr << "destination did not stop cleanly\n";
  const absl::Time q0 = absl::Now();
  std::atomic<int> next{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 16; ++t) {
    clients.emplace_back([&] {
      for (int i = next++; i < backlog; i = next++)
        transfer(create(absl::StrCat("bl-", i)), absl::StrCat("tbl-", i));
    });
  }
  for (auto& t : clients) t.join();
  const double queue_s = absl::ToDoubleSeconds(absl::Now() - q0);
  auto depth = [&] {
    Ctx ctx("502-1");
    v1::FederationStatus st;
    if (!src_handoffs->GetFederationStatus(&ctx.ctx, v1::GetFederationStatusRequest(), &st).ok())
      return -1L;
    return st.peers_size() ? static_cast<long>(st.peers(0).outbox_depth()) : -1L;
  };
  WaitFor([&] { return depth() == backlog; }, absl::Seconds(60));
  const absl::Time d0 = absl::Now();
  if (!dst->Start().ok()) {
    std::cerr << "destination did not restart\n";
    return 1;
  }
  WaitFor([&] { return depth() == 0; }, absl::Minutes(30));
  const double drain_s = absl::ToDoubleSeconds(absl::Now() - d0);

  const std::string commit = bench::GitCommit(RECEPTION_SOURCE_DIR);
  const std::string day = bench::Today();
  std::string md = absl::StrFormat(
      "## Handoffs between two nodes (%s, commit %s)\n\n"
      "One run of `handoff_bench` (tools/bench/handoff_bench.cc) on this machine: two receptiond "
      "processes on loopback (commune 502-1 -> district 502), group-fsync storage, both sharing "
      "the 2 "
      "cores with the client.\n\n"
      "Latency, %d sequential cases: a handoff is timed from the TransferCase call at the source "
      "until "
      "the destination serves the case as its owner (polled every 0.2 ms); it includes the "
      "freeze+outbox "
      "write (durable), the offer, the destination's durable import, but not the source's "
      "acknowledgement. "
      "Compared with one durable CreateCase in the same run.\n\n"
      "| operation | p50 ms | p99 ms |\n|---|---|---|\n"
      "| CreateCase (one durable write) | %.2f | %.2f |\n"
      "| handoff (TransferCase -> owned at destination) | %.2f | %.2f |\n\n"
      "Handoff / CreateCase: p50 %.1fx, p99 %.1fx.\n\n"
      "Backlog: %d cases created and transferred by 16 clients while the destination was stopped "
      "(%.1f s to queue), then the destination restarted: the outbox emptied in %.1f s "
      "(%.0f handoffs/s; draining took %.2fx the time queueing did). Up to 16 offers are in flight "
      "per "
      "peer; each is an offer, a durable import (grouped at the destination) and a durable "
      "acknowledgement. The previous run, one offer at a time, drained 205 handoffs/s.\n",
      day, commit, sequential, Percentile(create_ms, 0.5), Percentile(create_ms, 0.99),
      Percentile(handoff_ms, 0.5), Percentile(handoff_ms, 0.99),
      Percentile(handoff_ms, 0.5) / std::max(0.001, Percentile(create_ms, 0.5)),
      Percentile(handoff_ms, 0.99) / std::max(0.001, Percentile(create_ms, 0.99)), backlog, queue_s,
      drain_s, backlog / std::max(0.001, drain_s), drain_s / std::max(0.001, queue_s));
  std::cout << md;
  if (!write.empty()) bench::WriteSection(write, "handoffs", md);
  src->Stop();
  dst->Stop();
  return 0;
}

}  // namespace
}  // namespace reception::testing

int main(int argc, char** argv) { return reception::testing::Main(argc, argv); }
