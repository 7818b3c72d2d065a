// Media-session benchmark: one receptiond (Đà Nẵng city node, group-fsync
// storage, the none media backend) on loopback. Measures, in one run:
//   1. room open and join latency (p50/p99), against one durable CreateCase
//      and one GetRoom (a read) measured the same way in the same run;
//   2. capacity: stages of open rooms with 10 participants each (presiding
//      official, officer, 8 citizens) while every participant heartbeats once
//      every 10 s: heartbeat latency, participants wrongly marked
//      disconnected, and the node's resident memory per stage.
// Prints a Markdown section; with --write FILE replaces the section between
// its markers in FILE (BENCHMARKS.md).
//   media_bench RECEPTIOND [--latency 200] [--stages 100,500,2000] [--seconds 20] [--write
//   BENCHMARKS.md]
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <iostream>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "reception/cases/v1/case_service.grpc.pb.h"
#include "reception/media/v1/media_service.grpc.pb.h"
#include "services/common/test_support.h"
#include "tests/integration/node_process.h"
#include "tools/bench/bench_report.h"

namespace reception::testing {
namespace {

namespace mv1 = media::v1;
namespace cv1 = cases::v1;
using bench::Percentile;

constexpr int kPerRoom = 10;
constexpr absl::Duration kHeartbeatEvery = absl::Seconds(10);

// A call as someone; its latency in ms, or -1 on error (counted).
template <typename Stub, typename Req, typename Resp>
double Timed(Stub* stub, grpc::Status (Stub::*m)(grpc::ClientContext*, const Req&, Resp*),
             const Req& req, Resp* out, const std::string& subject, const std::string& role,
             std::atomic<int>* errors) {
  grpc::ClientContext ctx;
  AddPrincipal(&ctx, role, "48", subject);
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  const absl::Time t0 = absl::Now();
  grpc::Status s = (stub->*m)(&ctx, req, out);
  const double ms = absl::ToDoubleMilliseconds(absl::Now() - t0);
  if (!s.ok()) {
    if (errors->fetch_add(1) < 5) std::cerr << "error: " << s.error_message() << "\n";
    return -1;
  }
  return ms;
}

long RssKiB(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) {
      long kib = 0;
      (void)absl::SimpleAtoi(absl::StripAsciiWhitespace(line.substr(6, line.size() - 9)), &kib);
      return kib;
    }
  }
  return 0;
}

// CPU time (user + system) the process has used, in seconds.
double CpuSeconds(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/stat"));
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t close = stat.rfind(')');
  if (close == std::string::npos) return 0;
  std::vector<std::string> f = absl::StrSplit(stat.substr(close + 2), ' ');
  double utime = 0, stime = 0;  // fields 14 and 15 of stat(5), counted from after the name
  if (f.size() > 13) {
    (void)absl::SimpleAtod(f[11], &utime);
    (void)absl::SimpleAtod(f[12], &stime);
  }
  return (utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

struct Member {
  std::string room, id, subject;
};

int Main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: media_bench RECEPTIOND [--latency N] [--stages A,B,C] [--seconds S] "
                 "[--write FILE]\n";
    return 2;
  }
  int latency_n = 200, seconds = 20;
  std::vector<int> stages = {100, 500, 2000};
  std::string write;
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--latency") (void)absl::SimpleAtoi(v, &latency_n);
    if (k == "--seconds") (void)absl::SimpleAtoi(v, &seconds);
    if (k == "--write") write = v;
    if (k == "--stages") {
      stages.clear();
      for (absl::string_view s : absl::StrSplit(v, ',')) {
        int n = 0;
        if (absl::SimpleAtoi(s, &n)) stages.push_back(n);
      }
    }
  }
  TempDir dir;
  NodeProcess::Options o;
  o.binary = argv[1];
  o.unit_code = "48";
  o.work_dir = dir.path();
  // Joining thousands of participants takes longer than the default 30 s
  // timeout; the steady state (one heartbeat per 10 s) is what is measured.
  o.extra_config = "media:\n  heartbeat_timeout_seconds: 300\n";
  NodeProcess node(o);
  if (auto s = node.Start(); !s.ok()) {
    std::cerr << s << "\n" << ReadFile(node.log_path());
    return 1;
  }
  auto channel = node.NewChannel();
  auto media = mv1::MediaService::NewStub(channel);
  auto cases = cv1::CaseService::NewStub(channel);
  std::atomic<int> errors{0};
  const long rss_start = RssKiB(node.pid());

  // Creates and opens a room, and joins `n` people; their ids.
  auto make_room = [&](const std::string& id, int n, double* open_ms, double* join_ms) {
    std::vector<Member> members;
    mv1::CreateRoomRequest create;
    create.set_room_id(id);
    mv1::Room room;
    Timed(media.get(), &mv1::MediaService::Stub::CreateRoom, create, &room, "officer.bench",
          "officer", &errors);
    mv1::OpenRoomRequest open;
    open.set_name(room.name());
    const double o_ms = Timed(media.get(), &mv1::MediaService::Stub::OpenRoom, open, &room,
                              "officer.bench", "officer", &errors);
    if (open_ms) *open_ms = o_ms;
    for (int i = 0; i < n; ++i) {
      const std::string role = i == 0 ? "presiding" : i == 1 ? "officer" : "citizen";
      const std::string subject = absl::StrCat(id, "-", i);
      mv1::IssueJoinTokenRequest issue;
      issue.set_name(room.name());
      issue.set_role(role);
      issue.set_unit(i < 2 ? "48" : absl::StrCat("48-", 1 + i % 50));
      issue.set_subject(subject);
      mv1::JoinToken token;
      Timed(media.get(), &mv1::MediaService::Stub::IssueJoinToken, issue, &token, "officer.bench",
            "officer", &errors);
      mv1::JoinRoomRequest join;
      join.set_name(room.name());
      join.set_join_token(token.token());
      mv1::JoinRoomResponse joined;
      const double j_ms = Timed(media.get(), &mv1::MediaService::Stub::JoinRoom, join, &joined,
                                subject, "viewer", &errors);
      if (i == 0 && join_ms) *join_ms = j_ms;
      members.push_back({room.name(), joined.participant(), subject});
    }
    return members;
  };

  // 1. Latency, sequential.
  std::vector<double> open_ms, join_ms, create_case_ms, get_ms;
  for (int i = 0; i < latency_n; ++i) {
    double o_ms = 0, j_ms = 0;
    make_room(absl::StrCat("lat-", i), 1, &o_ms, &j_ms);
    open_ms.push_back(o_ms);
    join_ms.push_back(j_ms);
    cv1::Case c;
    create_case_ms.push_back(
        Timed(cases.get(), &cv1::CaseService::Stub::CreateCase,
              SampleCase(cv1::CASE_KIND_PETITION, absl::StrCat("bench-", i), "48-1",
                         absl::CivilDay(2026, 11, 20), absl::StrCat("Kiến nghị số ", i)),
              &c, "officer.bench", "officer", &errors));
    mv1::GetRoomRequest get;
    get.set_name(absl::StrCat("rooms/lat-", i));
    mv1::Room r;
    get_ms.push_back(Timed(media.get(), &mv1::MediaService::Stub::GetRoom, get, &r, "officer.bench",
                           "officer", &errors));
  }
  auto close_all = [&](const std::string& prefix, int n) {
    for (int i = 0; i < n; ++i) {
      mv1::CloseRoomRequest close;
      close.set_name(absl::StrCat("rooms/", prefix, i));
      mv1::Room r;
      Timed(media.get(), &mv1::MediaService::Stub::CloseRoom, close, &r, "officer.bench", "officer",
            &errors);
    }
  };
  close_all("lat-", latency_n);

  // 2. Capacity stages.
  struct StageResult {
    int rooms = 0;
    double setup_s = 0, hb_p50 = 0, hb_p99 = 0, hb_rate = 0, node_cores = 0;
    int disconnected = 0, hb_errors = 0;
    long rss_kib = 0;
  };
  std::vector<StageResult> results;
  std::vector<Member> members;
  int rooms_made = 0;
  const long rss_before = RssKiB(node.pid());
  for (int target : stages) {
    StageResult st;
    st.rooms = target;
    const absl::Time s0 = absl::Now();
    std::atomic<int> next{rooms_made};
    absl::Mutex mu;
    std::vector<std::thread> workers;
    for (int w = 0; w < 8; ++w) {
      workers.emplace_back([&] {
        for (int i = next++; i < target; i = next++) {
          auto m = make_room(absl::StrCat("cap-", i), kPerRoom, nullptr, nullptr);
          absl::MutexLock lock(&mu);
          members.insert(members.end(), m.begin(), m.end());
        }
      });
    }
    for (auto& t : workers) t.join();
    workers.clear();
    rooms_made = target;
    st.setup_s = absl::ToDoubleSeconds(absl::Now() - s0);

    // Heartbeats: each participant once per 10 s, spread evenly.
    const size_t n = members.size();
    const absl::Duration gap = kHeartbeatEvery / static_cast<double>(n);
    std::vector<std::vector<double>> lat(8);
    std::atomic<int> hb_errors{0};
    const double cpu0 = CpuSeconds(node.pid());
    const absl::Time h0 = absl::Now();
    const absl::Time h_end = h0 + absl::Seconds(seconds);
    std::atomic<size_t> seq{0};
    for (int w = 0; w < 8; ++w) {
      workers.emplace_back([&, w] {
        while (true) {
          const size_t k = seq++;
          const absl::Time due = h0 + gap * static_cast<double>(k);
          if (due >= h_end) break;
          const absl::Time now = absl::Now();
          if (due > now) absl::SleepFor(due - now);
          const Member& m = members[k % n];
          mv1::HeartbeatRequest hb;
          hb.set_name(m.room);
          hb.set_participant(m.id);
          mv1::Room r;
          const double ms = Timed(media.get(), &mv1::MediaService::Stub::Heartbeat, hb, &r,
                                  m.subject, "viewer", &hb_errors);
          if (ms >= 0) lat[w].push_back(ms);
        }
      });
    }
    for (auto& t : workers) t.join();
    workers.clear();
    st.node_cores = (CpuSeconds(node.pid()) - cpu0) / absl::ToDoubleSeconds(absl::Now() - h0);
    std::vector<double> all;
    for (auto& v : lat) all.insert(all.end(), v.begin(), v.end());
    st.hb_p50 = Percentile(all, 0.5);
    st.hb_p99 = Percentile(all, 0.99);
    st.hb_rate = all.size() / static_cast<double>(seconds);
    st.hb_errors = hb_errors;
    st.rss_kib = RssKiB(node.pid());
    for (int i = 0; i < target; ++i) {
      mv1::GetRoomRequest get;
      get.set_name(absl::StrCat("rooms/cap-", i));
      mv1::Room r;
      Timed(media.get(), &mv1::MediaService::Stub::GetRoom, get, &r, "officer.bench", "officer",
            &errors);
      for (const auto& p : r.participants())
        st.disconnected += p.presence() == mv1::PRESENCE_DISCONNECTED;
    }
    results.push_back(st);
    std::cerr << "stage " << target << " rooms: setup " << st.setup_s << " s, heartbeat p99 "
              << st.hb_p99 << " ms, rss " << st.rss_kib / 1024 << " MiB\n";
  }

  std::string md = absl::StrFormat(
      "## Online reception rooms on one node (%s, commit %s)\n\n"
      "One run of `media_bench` (tools/bench/media_bench.cc) on this machine: one receptiond on "
      "loopback (city node 48, group-fsync storage, the `none` media backend: the control plane "
      "alone), sharing the 2 cores with the client.\n\n"
      "Latency, %d sequential rooms, each compared with one durable CreateCase and one GetRoom in "
      "the "
      "same run. OpenRoom is a durable room operation plus the media backend's provisioning (none "
      "here); JoinRoom verifies the Ed25519 join token and writes the join durably.\n\n"
      "| operation | p50 ms | p99 ms | p50 vs CreateCase | p50 vs GetRoom "
      "|\n|---|---|---|---|---|\n"
      "| GetRoom (a read) | %.2f | %.2f | %.2fx | 1x |\n"
      "| CreateCase (one durable write) | %.2f | %.2f | 1x | %.1fx |\n"
      "| OpenRoom | %.2f | %.2f | %.2fx | %.1fx |\n"
      "| JoinRoom | %.2f | %.2f | %.2fx | %.1fx |\n\n"
      "Capacity: open rooms of %d participants each (presiding official, officer, 8 citizens), "
      "every "
      "participant heartbeating once every 10 s for %d s per stage (8 client threads). Resident "
      "memory "
      "of the node process (VmRSS; %.1f MiB at start, %.1f MiB after the latency rooms).\n\n"
      "| open rooms | participants | heartbeats/s | heartbeat p50 ms | p99 ms | errors | wrongly "
      "disconnected | "
      "node CPU (cores) | RSS MiB | KiB per room over the empty node | setup s |\n"
      "|---|---|---|---|---|---|---|---|---|---|---|\n",
      bench::Today(), bench::GitCommit(RECEPTION_SOURCE_DIR), latency_n, Percentile(get_ms, 0.5),
      Percentile(get_ms, 0.99), Percentile(get_ms, 0.5) / Percentile(create_case_ms, 0.5),
      Percentile(create_case_ms, 0.5), Percentile(create_case_ms, 0.99),
      Percentile(create_case_ms, 0.5) / Percentile(get_ms, 0.5), Percentile(open_ms, 0.5),
      Percentile(open_ms, 0.99), Percentile(open_ms, 0.5) / Percentile(create_case_ms, 0.5),
      Percentile(open_ms, 0.5) / Percentile(get_ms, 0.5), Percentile(join_ms, 0.5),
      Percentile(join_ms, 0.99), Percentile(join_ms, 0.5) / Percentile(create_case_ms, 0.5),
      Percentile(join_ms, 0.5) / Percentile(get_ms, 0.5), kPerRoom, seconds, rss_start / 1024.0,
      rss_before / 1024.0);
  for (const auto& st : results) {
    absl::StrAppendFormat(
        &md, "| %d | %d | %.0f | %.2f | %.2f | %d | %d | %.2f | %.1f | %.1f | %.1f |\n", st.rooms,
        st.rooms * kPerRoom, st.hb_rate, st.hb_p50, st.hb_p99, st.hb_errors, st.disconnected,
        st.node_cores, st.rss_kib / 1024.0,
        (st.rss_kib - rss_before) / static_cast<double>(st.rooms), st.setup_s);
  }
  const StageResult* held = nullptr;
  for (const auto& st : results) {
    if (st.hb_errors == 0 && st.disconnected == 0) held = &st;
  }
  if (held != nullptr) {
    absl::StrAppendFormat(&md,
                          "\nThe largest stage held without an error or a wrongful disconnection: "
                          "%d open rooms (%d participants, "
                          "%.0f heartbeats/s) in %.0f MiB, %.2f cores of node CPU. The client runs "
                          "on the same 2 cores, so this is "
                          "a floor for what one node holds, not its ceiling.\n",
                          held->rooms, held->rooms * kPerRoom, held->hb_rate,
                          held->rss_kib / 1024.0, held->node_cores);
  }
  absl::StrAppend(&md, "\nErrors outside heartbeats: ", errors.load(), ".\n");
  std::cout << md;
  if (!write.empty()) bench::WriteSection(write, "media", md);
  node.Stop();
  return errors.load() == 0 ? 0 : 1;
}

}  // namespace
}  // namespace reception::testing

int main(int argc, char** argv) { return reception::testing::Main(argc, argv); }
